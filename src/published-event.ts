import type { JsonObject, StoredEvent } from './model';
import { eventDataJson, metadataJson, type EventWithData } from './stored-event-text';

/**
 * The JSON value of a Kafka message as the relay publishes it and subscribers read it: Eventuate's
 * PublishedEvent, extended with the feed cursor. Shared by both ends so they cannot drift apart.
 */
export interface PublishedEvent {
  id: string;
  entityId: string;
  entityType: string;
  eventType: string;
  /** JSON text, as Eventuate's consumers expect. */
  eventData: string;
  /** JSON text. */
  metadata: string;
  entityVersion: number;
  createdAt: string;
  cursor?: string;
}

/** `${prefix}${entityType}`, with `$` (legal in entity types, not in topic names) spelled `_DLR_`. */
export function topicFor(topicPrefix: string, entityType: string): string {
  return `${topicPrefix}${entityType.replace(/\$/g, '_DLR_')}`;
}

/** From an event read as objects or with its JSON as text (the relay's reads), the same value. */
export function toPublishedEvent(event: EventWithData): PublishedEvent {
  return {
    id: event.eventId,
    entityId: event.entityId,
    entityType: event.entityType,
    eventType: event.eventType,
    eventData: eventDataJson(event),
    metadata: metadataJson(event),
    entityVersion: event.entityVersion,
    createdAt: event.createdAt,
    cursor: event.cursor,
  };
}

/** A message value back into the event it was made from; throws on anything that is not one. */
export function fromPublishedEvent(value: string): StoredEvent {
  const p = JSON.parse(value) as Partial<PublishedEvent>;
  const text = (name: keyof PublishedEvent) => {
    const field = p[name];
    if (typeof field !== 'string') throw new TypeError(`not a published event: ${name} is not a string`);
    return field;
  };
  if (typeof p.entityVersion !== 'number') throw new TypeError('not a published event: entityVersion is not a number');
  const event: StoredEvent = {
    eventId: text('id'),
    entityId: text('entityId'),
    entityType: text('entityType'),
    eventType: text('eventType'),
    eventData: JSON.parse(text('eventData')) as JsonObject,
    metadata: JSON.parse(text('metadata')) as JsonObject,
    entityVersion: p.entityVersion,
    createdAt: text('createdAt'),
  };
  if (typeof p.cursor === 'string') event.cursor = p.cursor;
  return event;
}
