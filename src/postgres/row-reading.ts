import { types, type CustomTypesConfig } from 'pg';
import type { StoredEvent, StoredSnapshot } from '../model';
import type { StoredEventText, StoredSnapshotText } from '../stored-event-text';
import { jsonbTextAsJson } from './jsonb-text';
import { utcTimestampAsIso } from './read-time';
import type { Row } from './write-target';

/** The entity whose events a read selected, by type and id (equal, so the same text, as the rows'). */
export interface EntityKey {
  entityType: string;
  entityId: string;
}

/**
 * How the rows of a read become events and snapshots: as objects (the EventStore port), or with the
 * JSON kept as text (the server's reads). The queries are the same (queries.ts: jsonb as it is, times
 * `AT TIME ZONE 'UTC'`); the readings differ in how node-postgres parses the columns (`types`,
 * given with each query) and so in what they do with the JSON.
 */
export interface RowReading<E, S> {
  /** How the query's columns are parsed. */
  types: CustomTypesConfig;
  /**
   * An event row: queries.ts's eventColumns, or its entityEventColumns for the events of `entity`
   * (a read by entity type and id, which are then not selected); `cursor` for feed reads.
   */
  event(row: Row, entity?: EntityKey, cursor?: string): E;
  /** The snapshot of a loadHead row that has one. */
  snapshot(head: Row): S;
}

const JSONB = types.builtins.JSONB;
const TIMESTAMP = types.builtins.TIMESTAMP;
const keepText = (text: string) => text;

/**
 * Every read's times as Date.toISOString wrote them (read-time.ts), made from the text without a
 * Date; `timestamp` (without time zone) is only ever what the reads' `AT TIME ZONE 'UTC'` gives.
 * The rest as node-postgres parses it, jsonb included (JSON.parse).
 */
export const readTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP ? utcTimestampAsIso : types.getTypeParser(oid, format ?? 'text')) as CustomTypesConfig['getTypeParser'],
};

/** readTypes, with jsonb left as PostgreSQL wrote it. */
const jsonbAsTextTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === JSONB ? keepText : readTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** Data and metadata as node-postgres parses jsonb: JSON.parse. */
export const asObjects: RowReading<StoredEvent, StoredSnapshot> = {
  types: readTypes,
  event: (r, entity, cursor) => {
    // Written out member by member, in the order every read has always answered them.
    const event: StoredEvent = {
      eventId: r.event_id,
      entityType: entity ? entity.entityType : r.entity_type,
      entityId: entity ? entity.entityId : r.entity_id,
      entityVersion: r.entity_version,
      eventType: r.event_type,
      eventData: r.event_data,
      metadata: r.metadata,
      createdAt: r.created_at,
    };
    if (r.triggering_event !== null) event.triggeringEventToken = r.triggering_event;
    if (cursor !== undefined) event.cursor = cursor;
    return event;
  },
  snapshot: (head) => ({
    entityVersion: head.snapshot_version,
    snapshotType: head.snapshot_type,
    snapshotData: head.snapshot_data,
    createdAt: head.snapshot_created_at,
  }),
};

/** The JSON as JSON.stringify would write the objects (jsonb-text.ts), without making them. */
export const asText: RowReading<StoredEventText, StoredSnapshotText> = {
  types: jsonbAsTextTypes,
  event: (r, entity, cursor) => {
    const event: StoredEventText = {
      eventId: r.event_id,
      entityType: entity ? entity.entityType : r.entity_type,
      entityId: entity ? entity.entityId : r.entity_id,
      entityVersion: r.entity_version,
      eventType: r.event_type,
      eventDataJson: jsonbTextAsJson(r.event_data),
      metadataJson: jsonbTextAsJson(r.metadata),
      createdAt: r.created_at,
    };
    if (r.triggering_event !== null) event.triggeringEventToken = r.triggering_event;
    if (cursor !== undefined) event.cursor = cursor;
    return event;
  },
  snapshot: (head) => ({
    entityVersion: head.snapshot_version,
    snapshotType: head.snapshot_type,
    snapshotDataJson: jsonbTextAsJson(head.snapshot_data),
    createdAt: head.snapshot_created_at,
  }),
};
