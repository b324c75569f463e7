import type { StoredEvent } from '../../src/model';

/** The JSON value of a Kafka message: Eventuate's PublishedEvent, extended with the feed cursor. */
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

export interface KafkaMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** `${prefix}${entityType}` with `$` (legal in entity types, not in topic names) spelled `_DLR_`. */
export function topicFor(topicPrefix: string, entityType: string): string {
  return `${topicPrefix}${entityType.replace(/\$/g, '_DLR_')}`;
}

export function toPublishedEvent(event: StoredEvent): PublishedEvent {
  return {
    id: event.eventId,
    entityId: event.entityId,
    entityType: event.entityType,
    eventType: event.eventType,
    eventData: JSON.stringify(event.eventData),
    metadata: JSON.stringify(event.metadata),
    entityVersion: event.entityVersion,
    createdAt: event.createdAt,
    cursor: event.cursor,
  };
}

/** Keyed by entity id, so one entity's events share a partition and keep their version order. */
export function toKafkaMessage(event: StoredEvent): KafkaMessage {
  return {
    key: event.entityId,
    value: JSON.stringify(toPublishedEvent(event)),
    headers: { 'event-id': event.eventId, 'event-type': event.eventType },
  };
}
