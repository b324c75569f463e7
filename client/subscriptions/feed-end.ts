import type { FeedEnd, FeedOptions, FeedPage } from '../../src/model';

/** Anything with the global feed: PostgresEventStore, InMemoryEventStore, HttpEventStore. */
export interface FeedReader {
  readFeed(options?: FeedOptions): Promise<FeedPage>;
  readFeedEnd(): Promise<FeedEnd>;
}

/**
 * The cursor where the feed ends now: reading after it gives only events committed later. The
 * store answers it without reading the feed (`readFeedEnd`, `GET /events/end`). The end is one place
 * for every type filter, so `options` changes nothing; it stays for the callers that pass it.
 */
export async function endOfFeed(reader: FeedReader, _options: { entityTypes?: string[]; signal?: AbortSignal } = {}): Promise<string> {
  return (await reader.readFeedEnd()).cursor;
}
