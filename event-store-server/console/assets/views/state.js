// @ts-check
import { api } from '../api.js';
import { copyable, h, jsonTree, notice, time, viewLink } from '../dom.js';
import { eventCard } from '../event-card.js';
import { positiveInteger } from './entity.js';

/**
 * The state at a version, as far as the server knows it: it does not run the aggregate's code, so
 * it shows what a replay to that version reads (the newest snapshot at or before it, then the
 * events after the snapshot), or every event with ?snapshot=false.
 * @type {import('../main.js').View}
 */
export async function stateView(root, { path, query }) {
  const [, type, id, , versionText] = path;
  const toVersion = /** @type {number} */ (positiveInteger(versionText));
  const withoutSnapshot = query.get('snapshot') === 'false';
  const loaded = await api.load(type, id, { toVersion, snapshot: withoutSnapshot ? 'false' : undefined });

  root.append(
    h('nav', { class: 'crumbs' }, viewLink(['types'], 'Types'), ' / ', viewLink(['entities', type], type), ' / ', viewLink(['entity', type, id], id), ` / state at v${loaded.entityVersion}`),
    h('h1', {}, `${type} `, copyable(id), ` at version ${loaded.entityVersion}`),
    h(
      'p',
      { class: 'summary' },
      'What a replay up to this version reads. ',
      viewLink(['entity', type, id], 'History from here', { fromVersion: loaded.entityVersion }),
    ),
  );
  if (loaded.entityVersion < toVersion) root.append(notice('info', `${type} ${id} has no version ${toVersion} yet; this is its newest, ${loaded.entityVersion}.`));
  const { snapshot } = loaded;
  if (snapshot) {
    root.append(
      h(
        'section',
        { class: 'snapshot' },
        h('h2', {}, h('span', { class: 'badge' }, 'snapshot'), ` ${snapshot.snapshotType} at v${snapshot.entityVersion}, stored `, time(snapshot.createdAt)),
        jsonTree(snapshot.snapshotData, 3),
        h('p', {}, viewLink(['entity', type, id, 'state', String(loaded.entityVersion)], 'Show every event instead', { snapshot: 'false' })),
      ),
    );
  }
  root.append(
    h('h2', {}, snapshot ? `Events after the snapshot (${loaded.events.length})` : `Events (${loaded.events.length})`),
    h('ol', { class: 'timeline' }, ...loaded.events.map((event) => h('li', {}, eventCard(event)))),
  );
}
