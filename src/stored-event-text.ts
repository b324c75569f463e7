import type { FeedOptions, FeedPage, HistoryOptions, HistoryPage, LoadedEntity, LoadOptions, StoredEvent, StoredSnapshot } from './model';

/**
 * A stored event whose data and metadata are JSON text: exactly what JSON.stringify writes for the
 * `eventData` and `metadata` of the same event read as objects. For the server, which writes them
 * into its answers and never looks inside.
 */
export interface StoredEventText extends Omit<StoredEvent, 'eventData' | 'metadata'> {
  eventDataJson: string;
  metadataJson: string;
}

/** An event read either way: as objects (the EventStore port) or with its JSON as text. */
export type EventWithData = StoredEvent | StoredEventText;

/** The event's data as JSON.stringify writes it, made only when it was read as objects. */
export function eventDataJson(event: EventWithData): string {
  return 'eventDataJson' in event ? event.eventDataJson : JSON.stringify(event.eventData);
}

export function metadataJson(event: EventWithData): string {
  return 'metadataJson' in event ? event.metadataJson : JSON.stringify(event.metadata);
}

export interface StoredSnapshotText extends Omit<StoredSnapshot, 'snapshotData'> {
  snapshotDataJson: string;
}

/**
 * A load as the server reads it: the events packed by PostgreSQL into one text
 * (src/postgres/packed-events.ts), which the server writes into its answer as bytes.
 */
export interface PackedLoadedEntity extends Omit<LoadedEntity<never, StoredSnapshotText>, 'events'> {
  /** '' for no events. */
  packedEvents: string;
}
export type HistoryPageText = HistoryPage<StoredEventText>;
export type FeedPageText = FeedPage<StoredEventText>;

/** The reads the server answers with, the data kept as JSON text; the same checks, errors and answers as the EventStore's. */
export interface JsonTextReads {
  load(entityType: string, entityId: string, options?: LoadOptions): Promise<PackedLoadedEntity>;
  history(entityType: string, entityId: string, options?: HistoryOptions): Promise<HistoryPageText>;
  getEvent(eventId: string): Promise<StoredEventText>;
  /** The feed as readFeed gives it (waiting with `waitMs` as it does). */
  readFeed(options?: FeedOptions): Promise<FeedPageText>;
  /** readFeed on the store's catch-up connections (see PostgresEventStore.readFeedCatchUp). */
  readFeedCatchUp(options?: Omit<FeedOptions, 'waitMs'>): Promise<FeedPageText>;
}
