// @ts-check
import { api } from '../api.js';
import { h, notice, time, viewLink } from '../dom.js';

const PAGE_SIZE = 50;

/** The instances of a saga, a page at a time, each linking to its timeline. @type {import('../main.js').View} */
export async function sagaInstancesView(root, { path, query }) {
  const type = path[1];
  const after = query.get('after') ?? undefined;
  const page = await api.entities(type, { after, limit: PAGE_SIZE });
  root.append(h('nav', { class: 'crumbs' }, viewLink(['sagas'], 'Sagas'), ' / ', type), h('h1', {}, type));
  if (page.entities.length === 0) {
    root.append(notice('info', `No ${type} instances${after ? ' after this point' : ''}.`));
  } else {
    root.append(
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Saga id'), h('th', { class: 'num' }, 'Events'), h('th', {}, 'Last update'), h('th', { class: 'wide-only' }, 'Started'))),
          h(
            'tbody',
            {},
            ...page.entities.map((e) =>
              h(
                'tr',
                {},
                h('td', {}, viewLink(['saga', type, e.entityId], e.entityId)),
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
  root.append(h('nav', { class: 'pager' }, after ? viewLink(['sagas', type], '« First page') : null, page.next ? viewLink(['sagas', type], 'Next page »', { after: page.next }) : null));
}
