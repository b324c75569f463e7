// @ts-check
import { api, feedEnd, streamFeed, Unauthorized } from '../api.js';
import { h, jsonTree, time, viewHref, viewLink } from '../dom.js';

const SHOWN = 200; // rows kept on the page; older ones drop off the bottom
const RECONNECT_MS = 2000;

/**
 * The global feed as it happens: from the end of the feed on, newest first, filtered by entity
 * type (?types=A,B), pausable. Pausing closes the stream and keeps the cursor, so resuming
 * delivers what was committed meanwhile: nothing is skipped.
 * @type {import('../main.js').View}
 */
export async function liveView(root, { query, rerender }) {
  const leaving = new AbortController();
  /** @type {Set<string>} */
  const selected = new Set((query.get('types') ?? '').split(',').filter((t) => t !== ''));
  const status = h('span', { class: 'live-status', role: 'status' }, 'Finding the end of the feed…');
  const rows = h('ol', { class: 'feed' });
  const pause = h('button', { type: 'button', class: 'pause', 'aria-pressed': 'false' }, 'Pause');
  const types = await api.types();
  const filter = h(
    'fieldset',
    { class: 'type-filter' },
    h('legend', {}, 'Entity types (none ticked: all)'),
    ...[...new Set([...types.map((t) => t.entityType), ...selected])].sort().map((type) => {
      const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', value: type }));
      box.checked = selected.has(type);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(type);
        else selected.delete(type);
        // The address keeps the filter (a permalink) without re-rendering: the stream goes on from its cursor.
        history.replaceState(null, '', viewHref(['live'], { types: typesParam() }));
        restartStream?.abort();
      });
      return h('label', {}, box, ` ${type}`);
    }),
  );
  root.append(h('h1', {}, 'Live feed'), h('div', { class: 'live-controls' }, pause, status), filter, rows);

  const typesParam = () => [...selected].sort().join(',') || undefined;
  let paused = false;
  /** @type {AbortController | undefined} */
  let restartStream;
  /** @type {() => void} */
  let resume = () => {};
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (paused) restartStream?.abort();
    else resume();
  });

  let cursor = await feedEnd(leaving.signal);

  /** @param {import('../api.js').StoredEvent} event */
  const show = (event) => {
    cursor = event.cursor ?? cursor;
    rows.prepend(feedRow(event));
    while (rows.childElementCount > SHOWN) rows.lastElementChild?.remove();
  };

  const run = async () => {
    while (!leaving.signal.aborted) {
      if (paused) {
        status.textContent = 'Paused: resuming continues where it stopped.';
        await new Promise((resolve) => (resume = () => resolve(undefined)));
        continue;
      }
      restartStream = new AbortController();
      status.textContent = `Live${selected.size ? `: ${[...selected].sort().join(', ')}` : ': all types'}`;
      status.classList.add('on');
      try {
        await streamFeed({ after: cursor, entityTypes: typesParam(), signal: AbortSignal.any([leaving.signal, restartStream.signal]), onEvent: show });
      } catch (err) {
        status.classList.remove('on');
        if (leaving.signal.aborted || restartStream.signal.aborted) continue;
        if (err instanceof Unauthorized) return rerender();
        status.textContent = `Disconnected (${err instanceof Error ? err.message : String(err)}); reconnecting…`;
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  };
  void run();
  return () => leaving.abort();
}

/** @param {import('../api.js').StoredEvent} event */
function feedRow(event) {
  return h(
    'li',
    { class: 'feed-row', 'data-event-id': event.eventId },
    h(
      'div',
      { class: 'feed-line' },
      time(event.createdAt),
      viewLink(['entity', event.entityType, event.entityId], `${event.entityType} ${event.entityId}`, { fromVersion: event.entityVersion }),
      h('span', { class: 'version' }, `v${event.entityVersion}`),
      h('strong', { class: 'event-type' }, event.eventType),
    ),
    h('details', {}, h('summary', {}, 'data'), jsonTree(event.eventData, 1)),
  );
}
