import type { EventStore } from './event-store';
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

export interface StoredSnapshotText extends Omit<StoredSnapshot, 'snapshotData'> {
  snapshotDataJson: string;
}

export type LoadedEntityText = LoadedEntity<StoredEventText, StoredSnapshotText>;
export type HistoryPageText = HistoryPage<StoredEventText>;
export type FeedPageText = FeedPage<StoredEventText>;

/** The reads the server answers with, the data kept as JSON text; the same checks, errors and answers as the EventStore's. */
export interface JsonTextReads {
  load(entityType: string, entityId: string, options?: LoadOptions): Promise<LoadedEntityText>;
  history(entityType: string, entityId: string, options?: HistoryOptions): Promise<HistoryPageText>;
  getEvent(eventId: string): Promise<StoredEventText>;
  /** The feed as readFeed gives it, without waiting. */
  readFeed(options?: Omit<FeedOptions, 'waitMs'>): Promise<FeedPageText>;
  /** readFeed on the store's catch-up connections (see PostgresEventStore.readFeedCatchUp). */
  readFeedCatchUp(options?: Omit<FeedOptions, 'waitMs'>): Promise<FeedPageText>;
}

export function eventAsText({ eventData, metadata, ...event }: StoredEvent): StoredEventText {
  return { ...event, eventDataJson: JSON.stringify(eventData), metadataJson: JSON.stringify(metadata) };
}

/**
 * The JSON-text reads of a store that reads objects (in memory): each value stringified. A store
 * that keeps JSON text (PostgreSQL) gives its own, which never builds the objects.
 */
export function jsonTextReadsOf(store: EventStore & { readFeedCatchUp?(options?: Omit<FeedOptions, 'waitMs'>): Promise<FeedPage> }): JsonTextReads {
  const feedPage = ({ events, cursor }: FeedPage): FeedPageText => ({ events: events.map(eventAsText), cursor });
  return {
    async load(entityType, entityId, options) {
      const { snapshot, events, ...loaded } = await store.load(entityType, entityId, options);
      if (!snapshot) return { ...loaded, events: events.map(eventAsText) };
      const { snapshotData, ...mark } = snapshot;
      return { ...loaded, snapshot: { ...mark, snapshotDataJson: JSON.stringify(snapshotData) }, events: events.map(eventAsText) };
    },
    async history(entityType, entityId, options) {
      const { events, ...page } = await store.history(entityType, entityId, options);
      return { ...page, events: events.map(eventAsText) };
    },
    getEvent: async (eventId) => eventAsText(await store.getEvent(eventId)),
    readFeed: async (options) => feedPage(await store.readFeed(options)),
    readFeedCatchUp: async (options) => feedPage(await (store.readFeedCatchUp ?? store.readFeed).call(store, options)),
  };
}
