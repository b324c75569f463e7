import type { StoredEvent, StoredSnapshot } from '../src/model';
import type { StoredEventText, StoredSnapshotText } from '../src/stored-event-text';

/**
 * An event the server answers with: read with its data as JSON text (PostgresEventStore.jsonText),
 * or as objects (a store without such reads: in memory).
 */
export type AnswerEvent = StoredEventText | StoredEvent;
export type AnswerSnapshot = StoredSnapshotText | StoredSnapshot;

const texts = new WeakMap<AnswerEvent, string>();

/**
 * An event as JSON, made once however many readers take it: the feed tail hands every reader the
 * same event object, and weighs it by this text in its window. The members in the order of the
 * OpenAPI schema (schemas.ts's storedEvent), which is the order Fastify's serializer wrote.
 */
export function eventJson(event: AnswerEvent): string {
  let text = texts.get(event);
  if (text === undefined) {
    const data = 'eventDataJson' in event ? event.eventDataJson : JSON.stringify(event.eventData);
    const metadata = 'metadataJson' in event ? event.metadataJson : JSON.stringify(event.metadata);
    text =
      `{"eventId":${JSON.stringify(event.eventId)},"entityType":${JSON.stringify(event.entityType)},` +
      `"entityId":${JSON.stringify(event.entityId)},"entityVersion":${event.entityVersion},` +
      `"eventType":${JSON.stringify(event.eventType)},"eventData":${data},"metadata":${metadata},` +
      (event.triggeringEventToken === undefined ? '' : `"triggeringEventToken":${JSON.stringify(event.triggeringEventToken)},`) +
      `"createdAt":${JSON.stringify(event.createdAt)}` +
      (event.cursor === undefined ? '}' : `,"cursor":${JSON.stringify(event.cursor)}}`);
    texts.set(event, text);
  }
  return text;
}

/** A snapshot as JSON, in the order of schemas.ts's storedSnapshot. */
export function snapshotJson(snapshot: AnswerSnapshot): string {
  const data = 'snapshotDataJson' in snapshot ? snapshot.snapshotDataJson : JSON.stringify(snapshot.snapshotData);
  return (
    `{"snapshotType":${JSON.stringify(snapshot.snapshotType)},"snapshotData":${data},` +
    `"entityVersion":${snapshot.entityVersion},"createdAt":${JSON.stringify(snapshot.createdAt)}}`
  );
}

export function eventsJson(events: readonly AnswerEvent[]): string {
  return `[${events.map(eventJson).join(',')}]`;
}
