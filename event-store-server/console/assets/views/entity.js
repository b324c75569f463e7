// @ts-check
import { api } from '../api.js';
import { copyable, h, notice, time, viewLink } from '../dom.js';
import { eventCard } from '../event-card.js';
import { SAGA_STARTED } from '../saga-timeline.js';

const PAGE_SIZE = 50;

/**
 * An entity's history as a timeline, oldest first, a page at a time (?fromVersion=N), with its
 * snapshots marked where they were taken.
 * @type {import('../main.js').View}
 */
export async function entityView(root, { path, query }) {
  const [, type, id] = path;
  const fromVersion = positiveInteger(query.get('fromVersion')) ?? 1;
  const page = await api.history(type, id, { fromVersion, limit: PAGE_SIZE });

  root.append(
    h('nav', { class: 'crumbs' }, viewLink(['types'], 'Types'), ' / ', viewLink(['entities', type], type), ' / ', id),
    h('h1', {}, `${type} `, copyable(id)),
    h(
      'p',
      { class: 'summary' },
      `Version ${page.entityVersion} · `,
      viewLink(['entity', type, id, 'state', String(page.entityVersion)], 'current state'),
      fromVersion === 1 && page.events[0]?.eventType === SAGA_STARTED ? ' · ' : null,
      fromVersion === 1 && page.events[0]?.eventType === SAGA_STARTED ? viewLink(['saga', type, id], 'saga timeline') : null,
    ),
  );
  if (page.events.length === 0) {
    root.append(notice('info', `${type} ${id} has no version ${fromVersion}: it is at version ${page.entityVersion}.`));
  }
  const marks = new Map(page.snapshots.map((s) => [s.entityVersion, s]));
  const timeline = h('ol', { class: 'timeline' });
  for (const event of page.events) {
    timeline.append(h('li', {}, eventCard(event)));
    const mark = marks.get(event.entityVersion);
    if (mark) timeline.append(h('li', { class: 'snapshot-mark' }, snapshotMark(type, id, mark)));
  }
  root.append(timeline, pager(type, id, fromVersion, page.nextFromVersion));
}

/**
 * @param {string} type
 * @param {string} id
 * @param {import('../api.js').SnapshotMark} mark
 */
function snapshotMark(type, id, mark) {
  return h(
    'div',
    {},
    h('span', { class: 'badge' }, 'snapshot'),
    ` ${mark.snapshotType} at v${mark.entityVersion}, stored `,
    time(mark.createdAt),
    ' · ',
    viewLink(['entity', type, id, 'state', String(mark.entityVersion)], 'state from it'),
  );
}

/**
 * @param {string} type
 * @param {string} id
 * @param {number} fromVersion
 * @param {number | null} next
 */
function pager(type, id, fromVersion, next) {
  const newer = next === null ? null : viewLink(['entity', type, id], 'Later events »', { fromVersion: next });
  const older = fromVersion > 1 ? viewLink(['entity', type, id], '« Earlier events', { fromVersion: Math.max(1, fromVersion - PAGE_SIZE) }) : null;
  return h('nav', { class: 'pager' }, older, newer);
}

/**
 * A version from the address; anything else is refused rather than guessed at.
 * @param {string | null} value
 */
export function positiveInteger(value) {
  if (value === null) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new Error(`this address names “${value}” as a version; a version is a whole number from 1`);
  return Number(value);
}
