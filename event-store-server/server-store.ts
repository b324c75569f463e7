import type { EventStore } from '../src/event-store';
import type { FeedOptions, FeedPage, HistoryOptions, HistoryPage, LoadedEntity, LoadOptions } from '../src/model';
import type { JsonTextReads, PackedLoadedEntity } from '../src/stored-event-text';
import type { AnswerEvent, AnswerSnapshot } from './event-json';

/**
 * The store the server runs on: any EventStore that announces its commits (PostgreSQL and in
 * memory both do), plus what PostgresEventStore offers beyond the port.
 */
export interface ServerStore extends EventStore {
  /** Calls `listener` after events are committed; returns the unsubscribe function. Wakes the feed tail. */
  onCommit(listener: () => void): () => void;
  /** Throws (ServiceUnavailableError) when the storage is not reachable. Optional: not every store has a health check. */
  ping?(): Promise<void>;
  /**
   * readFeed on connections apart from the writers', for feed readers behind the live tail and reads
   * that do not wait. Optional: a store without separate connections (in memory) reads with readFeed.
   */
  readFeedCatchUp?(options: Omit<FeedOptions, 'waitMs'>): Promise<FeedPage>;
  /** The reads with the JSON kept as text, which the server answers with when the store has them (PostgreSQL). */
  jsonText?: JsonTextReads;
}

/** The reads whose events the server writes into its answers (event-json.ts), as text or as objects. */
export interface AnswerReads {
  load(entityType: string, entityId: string, options?: LoadOptions): Promise<LoadedEntity<AnswerEvent, AnswerSnapshot> | PackedLoadedEntity>;
  history(entityType: string, entityId: string, options?: HistoryOptions): Promise<HistoryPage<AnswerEvent>>;
  getEvent(eventId: string): Promise<AnswerEvent>;
  /** Without waiting. */
  readFeed(options: Omit<FeedOptions, 'waitMs'>): Promise<FeedPage<AnswerEvent>>;
  readFeedCatchUp?(options: Omit<FeedOptions, 'waitMs'>): Promise<FeedPage<AnswerEvent>>;
}

/** The store's JSON-text reads when it has them, else its object reads. */
export function answerReads(store: ServerStore): AnswerReads {
  return store.jsonText ?? store;
}
