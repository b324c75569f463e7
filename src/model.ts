/** JSON object as stored in `event_data`, `metadata` and `snapshot_data`. */
export type JsonObject = { [key: string]: unknown };

/** An event as a writer hands it to the store. */
export interface EventToAppend {
  /** Caller-chosen id; makes a retried append idempotent. Generated when absent. */
  eventId?: string;
  eventType: string;
  eventData: JsonObject;
  metadata?: JsonObject;
}

/** An event as every read returns it. */
export interface StoredEvent {
  eventId: string;
  entityType: string;
  entityId: string;
  entityVersion: number;
  eventType: string;
  eventData: JsonObject;
  metadata: JsonObject;
  triggeringEventToken?: string;
  /** ISO-8601 timestamp. */
  createdAt: string;
  /** Position in the global feed; present on feed reads. */
  cursor?: string;
}

export interface SnapshotToSave {
  snapshotType: string;
  snapshotData: JsonObject;
}

export interface StoredSnapshot extends SnapshotToSave {
  entityVersion: number;
  createdAt: string;
}

/** Where a snapshot lies on an entity's history, without its data (load with toVersion reads it). */
export interface SnapshotMark {
  entityVersion: number;
  snapshotType: string;
  createdAt: string;
}

export interface CreateEntityRequest {
  entityType: string;
  /** Caller-given id; a UUID is generated when absent. */
  entityId?: string;
  events: EventToAppend[];
  triggeringEventToken?: string;
  snapshot?: SnapshotToSave;
}

export interface AppendEventsRequest {
  entityType: string;
  entityId: string;
  /** The version the writer read; the append fails with OptimisticLockingError if it moved. */
  expectedVersion: number;
  events: EventToAppend[];
  triggeringEventToken?: string;
  /** Stored at the version this append reaches, in the same transaction. */
  snapshot?: SnapshotToSave;
}

export interface AppendResult {
  entityType: string;
  entityId: string;
  entityVersion: number;
  eventIds: string[];
  /**
   * The feed cursor of the last event written: a reader whose cursor is at or past it (compareCursors)
   * has read every event of this write. A retried write returns the first write's cursor.
   */
  cursor: string;
}

export interface LoadOptions {
  /** State as of this version (inclusive). */
  toVersion?: number;
  /** State as of this instant (events created at or before it). */
  asOf?: Date;
  /** false: ignore snapshots and return every event. Default true. */
  useSnapshot?: boolean;
}

/**
 * What a reader needs to rebuild an entity: the newest usable snapshot and the events after it.
 * (The type parameters let the server's reads carry the data as JSON text: stored-event-text.ts.)
 */
export interface LoadedEntity<E = StoredEvent, S = StoredSnapshot> {
  entityType: string;
  entityId: string;
  /** The version the returned state reaches (≤ the current version when toVersion/asOf is given). */
  entityVersion: number;
  snapshot?: S;
  events: E[];
}

export interface HistoryOptions {
  /** First version to return; default 1. */
  fromVersion?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface HistoryPage<E = StoredEvent> {
  entityType: string;
  entityId: string;
  /** The entity's current version. */
  entityVersion: number;
  events: E[];
  /** The snapshots stored at the versions of this page's events, oldest first. */
  snapshots: SnapshotMark[];
  /** Where the next page starts, or null after the last event. */
  nextFromVersion: number | null;
}

export interface EntitySummary {
  entityId: string;
  entityVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface ListEntitiesOptions {
  /** The `next` of the previous page. */
  after?: string;
  /** Only entities whose id starts with this (case-sensitive). */
  prefix?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface EntityPage {
  entities: EntitySummary[];
  /** Pass as `after` for the next page; null after the last. */
  next: string | null;
}

export interface EntityTypeSummary {
  entityType: string;
  entityCount: number;
  eventCount: number;
}

export interface FeedOptions {
  /** A cursor from an earlier read; absent: from the beginning. */
  after?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Only events of these entity types (the cursor still advances past the others). */
  entityTypes?: string[];
  /** Long poll: when nothing is available, wait up to this long for a commit. Default 0. */
  waitMs?: number;
  /** Ends a long poll early (returns what is there, possibly nothing). */
  signal?: AbortSignal;
}

export interface FeedPage<E = StoredEvent> {
  /** Events in commit order, each with its `cursor`. */
  events: E[];
  /** Resume after this; unchanged when nothing was read. */
  cursor: string;
}

/** Where the feed ends now. */
export interface FeedEnd {
  /**
   * The cursor a reader holds after reading the whole feed now (whatever its type filter): reading
   * after it gives exactly the events committed later.
   */
  cursor: string;
}

export const MAX_EVENTS_PER_APPEND = 1000;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
