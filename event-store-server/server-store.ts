import type { EventStore } from '../src/event-store';
import type { FeedOptions, FeedPage } from '../src/model';

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
}
