// @ts-check
import { api } from '../api.js';
import { h, notice, viewLink } from '../dom.js';

/** Every entity type with its entity and event counts. @type {import('../main.js').View} */
export async function typesView(root) {
  const types = await api.types();
  root.append(h('h1', {}, 'Entity types'));
  if (types.length === 0) {
    root.append(notice('info', 'No entities yet: types appear here once an entity is created.'));
    return;
  }
  root.append(
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', { class: 'num' }, 'Entities'), h('th', { class: 'num' }, 'Events'))),
        h(
          'tbody',
          {},
          ...types.map((t) =>
            h(
              'tr',
              {},
              h('td', {}, viewLink(['entities', t.entityType], t.entityType)),
              h('td', { class: 'num' }, t.entityCount.toLocaleString('en')),
              h('td', { class: 'num' }, t.eventCount.toLocaleString('en')),
            ),
          ),
        ),
      ),
    ),
  );
}
