// @ts-check
import { copyable, h, jsonTree, time, viewLink } from './dom.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * A reference to another event: a triggering event token, a causation or correlation id. Those
 * that are event ids link to the event (GET /events/:eventId resolves them); any other value
 * (a request id chosen by the writer) is shown as it is, since the server cannot resolve it.
 * @param {unknown} value
 */
export function eventReference(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && UUID.test(value)) return h('span', { class: 'ref' }, viewLink(['event', value], value), copyable(value));
  return copyable(text);
}

/**
 * One stored event: version, type, time, ids and references, data and metadata as folding JSON.
 * @param {import('./api.js').StoredEvent} event
 */
export function eventCard(event) {
  const { metadata } = event;
  const references = [
    ['triggered by', event.triggeringEventToken],
    ['causation', metadata.causationId],
    ['correlation', metadata.correlationId],
  ].filter(([, value]) => value !== undefined && value !== null);
  return h(
    'article',
    { class: 'event', 'data-version': String(event.entityVersion) },
    h(
      'header',
      {},
      h('span', { class: 'version' }, `v${event.entityVersion}`),
      h('strong', { class: 'event-type' }, event.eventType),
      time(event.createdAt),
      viewLink(['entity', event.entityType, event.entityId, 'state', String(event.entityVersion)], 'state at this version'),
    ),
    h(
      'dl',
      { class: 'ids' },
      h('dt', {}, 'event id'),
      h('dd', {}, copyable(event.eventId)),
      ...references.flatMap(([label, value]) => [h('dt', {}, String(label)), h('dd', {}, eventReference(value))]),
    ),
    h('details', { class: 'data', open: '' }, h('summary', {}, 'data'), jsonTree(event.eventData)),
    h('details', { class: 'metadata' }, h('summary', {}, 'metadata'), jsonTree(event.metadata)),
  );
}
