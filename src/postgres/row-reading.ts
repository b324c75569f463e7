import type { StoredEvent, StoredSnapshot } from '../model';
import type { StoredEventText, StoredSnapshotText } from '../stored-event-text';
import { jsonbTextAsJson } from './jsonb-text';
import type { Row } from './write-target';

/**
 * How the rows of a read become events and snapshots: as objects (the EventStore port), or with the
 * JSON kept as text (the server's reads). The queries are the same; they give jsonb as its text and
 * times already formatted (queries.ts), so the two differ only in what they do with the JSON.
 */
export interface RowReading<E, S> {
  /** An event row (queries.ts's eventColumns); `cursor` for feed reads. */
  event(row: Row, cursor?: string): E;
  /** The snapshot of a loadHead row that has one. */
  snapshot(head: Row): S;
}

/** The fields every reading shares, in the order every read has always answered them. */
function eventFields(r: Row) {
  return {
    eventId: r.event_id as string,
    entityType: r.entity_type as string,
    entityId: r.entity_id as string,
    entityVersion: r.entity_version as number,
    eventType: r.event_type as string,
  };
}

/** Adds what only some events have. */
function withOptionalFields<E extends { triggeringEventToken?: string; cursor?: string }>(event: E, r: Row, cursor: string | undefined): E {
  if (r.triggering_event !== null) event.triggeringEventToken = r.triggering_event;
  if (cursor !== undefined) event.cursor = cursor;
  return event;
}

/** What node-postgres itself did with jsonb: JSON.parse. */
export const asObjects: RowReading<StoredEvent, StoredSnapshot> = {
  event: (r, cursor) =>
    withOptionalFields<StoredEvent>(
      { ...eventFields(r), eventData: JSON.parse(r.event_data), metadata: JSON.parse(r.metadata), createdAt: r.created_at as string },
      r,
      cursor,
    ),
  snapshot: (head) => ({
    entityVersion: head.snapshot_version,
    snapshotType: head.snapshot_type,
    snapshotData: JSON.parse(head.snapshot_data),
    createdAt: head.snapshot_created_at,
  }),
};

/** The JSON as JSON.stringify would write the objects (jsonb-text.ts), without making them. */
export const asText: RowReading<StoredEventText, StoredSnapshotText> = {
  event: (r, cursor) =>
    withOptionalFields<StoredEventText>(
      {
        ...eventFields(r),
        eventDataJson: jsonbTextAsJson(r.event_data),
        metadataJson: jsonbTextAsJson(r.metadata),
        createdAt: r.created_at as string,
      },
      r,
      cursor,
    ),
  snapshot: (head) => ({
    entityVersion: head.snapshot_version,
    snapshotType: head.snapshot_type,
    snapshotDataJson: jsonbTextAsJson(head.snapshot_data),
    createdAt: head.snapshot_created_at,
  }),
};
