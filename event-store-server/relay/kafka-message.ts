import type { EventWithData } from '../../src/stored-event-text';
import { toPublishedEvent } from '../../src/published-event';

export { topicFor, toPublishedEvent } from '../../src/published-event';
export type { PublishedEvent } from '../../src/published-event';

export interface KafkaMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Keyed by entity id, so one entity's events share a partition and keep their version order. */
export function toKafkaMessage(event: EventWithData): KafkaMessage {
  return {
    key: event.entityId,
    value: JSON.stringify(toPublishedEvent(event)),
    headers: { 'event-id': event.eventId, 'event-type': event.eventType },
  };
}
