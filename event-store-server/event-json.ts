import type { StoredSnapshot } from '../src/model';
import { eventDataJson, metadataJson, type EventWithData, type StoredSnapshotText } from '../src/stored-event-text';
import type { JsonBytes } from './json-bytes';

/**
 * An event the server answers with: read with its data as JSON text (PostgresEventStore.jsonText),
 * or as objects (a store without such reads: in memory).
 */
export type AnswerEvent = EventWithData;
export type AnswerSnapshot = StoredSnapshotText | StoredSnapshot;

const texts = new WeakMap<AnswerEvent, string>();

/**
 * An event as JSON, made once however many readers take it: the feed tail hands every reader the
 * same event object, and weighs it by this text in its window.
 */
export function sharedEventJson(event: AnswerEvent): string {
  let text = texts.get(event);
  if (text === undefined) {
    text = eventJson(event);
    texts.set(event, text);
  }
  return text;
}

/**
 * An event as JSON, its members in the order of the OpenAPI schema (schemas.ts's storedEvent),
 * which is the order Fastify's serializer wrote. For an event one answer uses (a load, a history
 * page): remembering it would cost more than making it. `quote` writes the strings a row may hold
 * anything in (JSON.stringify, or an answer's quoter); the event id (a UUID: the column's type,
 * checkEventId), the time (ISO text: read-time.ts, toISOString) and the cursor (base64url) have
 * nothing to escape.
 */
export function eventJson(event: AnswerEvent, quote: (text: string) => string = JSON.stringify): string {
  const data = eventDataJson(event);
  const metadata = metadataJson(event);
  return (
    `{"eventId":"${event.eventId}","entityType":${quote(event.entityType)},` +
    `"entityId":${quote(event.entityId)},"entityVersion":${event.entityVersion},` +
    `"eventType":${quote(event.eventType)},"eventData":${data},"metadata":${metadata},` +
    (event.triggeringEventToken === undefined ? '' : `"triggeringEventToken":${JSON.stringify(event.triggeringEventToken)},`) +
    `"createdAt":"${event.createdAt}"` +
    (event.cursor === undefined ? '}' : `,"cursor":"${event.cursor}"}`)
  );
}

/**
 * JSON.stringify for the strings an answer repeats (entity types and ids, event types): made once
 * per answer, where JSON.stringify of each cost a third of writing a 1,000-event load's events.
 */
function answerQuoter(): (text: string) => string {
  const quoted = new Map<string, string>();
  return (text) => {
    let json = quoted.get(text);
    if (json === undefined) {
      json = JSON.stringify(text);
      quoted.set(text, json);
    }
    return json;
  };
}

/** A snapshot as JSON, in the order of schemas.ts's storedSnapshot. */
export function snapshotJson(snapshot: AnswerSnapshot): string {
  const data = 'snapshotDataJson' in snapshot ? snapshot.snapshotDataJson : JSON.stringify(snapshot.snapshotData);
  return (
    `{"snapshotType":${JSON.stringify(snapshot.snapshotType)},"snapshotData":${data},` +
    `"entityVersion":${snapshot.entityVersion},"createdAt":${JSON.stringify(snapshot.createdAt)}}`
  );
}

/**
 * A JSON array of events into `out`. `shared`: events the feed tail hands to many readers, whose
 * text is made once (sharedEventJson).
 */
export function writeEventsJson(out: JsonBytes, events: readonly AnswerEvent[], shared = false): void {
  const quote = answerQuoter();
  out.write('[');
  for (let i = 0; i < events.length; i++) {
    if (i > 0) out.write(',');
    out.write(shared ? sharedEventJson(events[i]) : eventJson(events[i], quote));
  }
  out.write(']');
}
