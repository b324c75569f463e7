// @ts-check
import { api } from '../api.js';
import { copyable, h, notice, time, viewLink } from '../dom.js';
import { SAGA_STARTED, sagaOutcome, sagaTimeline } from '../saga-timeline.js';

const PAGE_SIZE = 1000;

/**
 * One saga instance as a timeline: each step's command and the participant it went to, the replies
 * (linked to the participant's event) and how long each took, compensations, and the ending.
 * @type {import('../main.js').View}
 */
export async function sagaView(root, { path }) {
  const [, type, id] = path;
  /** @type {import('../api.js').StoredEvent[]} */
  const events = [];
  /** @type {number | null} */
  let fromVersion = 1;
  while (fromVersion !== null) {
    const page = await api.history(type, id, { fromVersion, limit: PAGE_SIZE });
    events.push(...page.events);
    fromVersion = page.nextFromVersion;
  }
  root.append(h('nav', { class: 'crumbs' }, viewLink(['sagas'], 'Sagas'), ' / ', viewLink(['sagas', type], type), ' / ', id), h('h1', {}, `${type} `, copyable(id)));
  if (events[0]?.eventType !== SAGA_STARTED) {
    root.append(
      notice('error', `${type} ${id} is not a saga instance: its history starts with ${events[0]?.eventType ?? 'nothing'}, not ${SAGA_STARTED}. `, viewLink(['entity', type, id], 'See its history')),
    );
    return;
  }
  const timeline = sagaTimeline(events);
  const outcome = sagaOutcome(timeline);
  const last = timeline[timeline.length - 1];
  root.append(
    h(
      'p',
      { class: 'summary' },
      h('span', { class: `saga-outcome ${outcome.replace(/ /g, '-')}` }, outcome),
      ` · ${timeline.length} events over ${last.sinceStartMs} ms · started `,
      time(timeline[0].createdAt),
      ' · ',
      viewLink(['entity', type, id], 'raw history'),
    ),
  );
  root.append(
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'saga-timeline' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'v'), h('th', { class: 'num' }, '+ms'), h('th', {}, 'Step'), h('th', {}, 'What'), h('th', {}, 'Participant'), h('th', { class: 'num' }, 'Took'), h('th', {}, 'Detail'))),
        h(
          'tbody',
          {},
          ...timeline.map((e) =>
            h(
              'tr',
              { class: `saga-entry ${e.kind}`, 'data-version': String(e.entityVersion) },
              h('td', { class: 'num' }, e.entityVersion),
              h('td', { class: 'num', title: e.createdAt }, e.sinceStartMs),
              h('td', { class: 'step' }, e.step ?? ''),
              h('td', { class: 'what' }, e.what),
              h('td', { class: 'participant' }, e.participant ? viewLink(['entity', e.participant.entityType, e.participant.entityId], `${e.kind === 'command' ? '→' : '←'} ${e.participant.entityType} ${e.participant.entityId}`) : ''),
              h('td', { class: 'num took' }, e.tookMs === undefined ? '' : `${e.tookMs} ms`),
              h('td', { class: 'detail' }, h('code', {}, e.detail), e.replyEventId ? ' ' : null, e.replyEventId ? viewLink(['event', e.replyEventId], 'reply') : null),
            ),
          ),
        ),
      ),
    ),
  );
}
