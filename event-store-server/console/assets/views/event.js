// @ts-check
import { api, ApiError } from '../api.js';
import { h, notice, viewLink } from '../dom.js';
import { eventCard } from '../event-card.js';

/**
 * One event found by its id: where a triggering token, a causation or a correlation id leads.
 * @type {import('../main.js').View}
 */
export async function eventView(root, { path }) {
  const eventId = path[1];
  let event;
  try {
    event = await api.event(eventId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      root.append(h('h1', {}, 'Event'), notice('info', `No event in this store has the id ${eventId}. It may name a message from outside the store.`));
      return;
    }
    throw err;
  }
  root.append(
    h('nav', { class: 'crumbs' }, viewLink(['types'], 'Types'), ' / ', viewLink(['entities', event.entityType], event.entityType), ' / ', viewLink(['entity', event.entityType, event.entityId], event.entityId), ` / v${event.entityVersion}`),
    h('h1', {}, `${event.eventType} `, h('span', { class: 'muted' }, `of ${event.entityType} ${event.entityId}`)),
    h('p', { class: 'summary' }, viewLink(['entity', event.entityType, event.entityId], 'See it in the entity’s history', { fromVersion: event.entityVersion })),
    eventCard(event),
  );
}
