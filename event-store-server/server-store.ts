import type { EventStore } from '../src/event-store';

/**
 * The store the server runs on: any EventStore, plus the health check PostgresEventStore offers.
 * Optional, so the server also runs on stores without one (e.g. in memory).
 */
export interface ServerStore extends EventStore {
  /** Throws (ServiceUnavailableError) when the storage is not reachable. */
  ping?(): Promise<void>;
}
