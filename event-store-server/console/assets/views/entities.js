// @ts-check
import { api } from '../api.js';
import { h, notice, time, viewHref, viewLink } from '../dom.js';

const PAGE_SIZE = 50;
// The API's entity id rule (a prefix is the start of one).
const ID_PATTERN = '[A-Za-z0-9_.:@\\-]{1,200}';

/** The entities of a type, a page at a time, searchable by id prefix. @type {import('../main.js').View} */
export async function entitiesView(root, { path, query }) {
  const type = path[1];
  const prefix = query.get('prefix') ?? undefined;
  const after = query.get('after') ?? undefined;
  const page = await api.entities(type, { prefix, after, limit: PAGE_SIZE });

  const input = /** @type {HTMLInputElement} */ (
    h('input', { type: 'search', name: 'prefix', value: prefix ?? '', pattern: ID_PATTERN, placeholder: 'id starts with…', 'aria-label': 'Entity id prefix' })
  );
  const search = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = viewHref(['entities', type], { prefix: input.value.trim() });
  });

  root.append(h('nav', { class: 'crumbs' }, viewLink(['types'], 'Types'), ' / ', type), h('h1', {}, type), search);
  if (page.entities.length === 0) {
    root.append(notice('info', prefix ? `No ${type} id starts with “${prefix}”${after ? ' after this point' : ''}.` : `No ${type} entities${after ? ' after this point' : ''}.`));
  } else {
    root.append(
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Entity id'), h('th', { class: 'num' }, 'Version'), h('th', {}, 'Last update'), h('th', { class: 'wide-only' }, 'Created'))),
          h(
            'tbody',
            {},
            ...page.entities.map((e) =>
              h(
                'tr',
                {},
                h('td', {}, viewLink(['entity', type, e.entityId], e.entityId)),
                h('td', { class: 'num' }, e.entityVersion),
                h('td', {}, time(e.updatedAt)),
                h('td', { class: 'wide-only' }, time(e.createdAt)),
              ),
            ),
          ),
        ),
      ),
    );
  }
  root.append(
    h(
      'nav',
      { class: 'pager' },
      after ? viewLink(['entities', type], '« First page', { prefix }) : null,
      page.next ? viewLink(['entities', type], 'Next page »', { prefix, after: page.next }) : null,
    ),
  );
}
