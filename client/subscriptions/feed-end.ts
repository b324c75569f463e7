import { MAX_PAGE_SIZE, type FeedOptions, type FeedPage } from '../../src/model';

/** Anything with the global feed: PostgresEventStore, InMemoryEventStore, HttpEventStore. */
export interface FeedReader {
  readFeed(options?: FeedOptions): Promise<FeedPage>;
}

/**
 * The cursor where the feed (of these entity types) ends now: reading after it gives only events
 * committed later. The feed has no "end" request (neither the stores nor `GET /events`), so this
 * reads to the end in full pages, filtered to the types, and stops at the first page that is not
 * full: a store fills every page it can, so a short page holds everything visible and its cursor
 * lies at the end, past the rows the filter skipped. A reader that returns short pages early only
 * makes the result earlier, never later: events are then delivered, not skipped.
 */
export async function endOfFeed(reader: FeedReader, options: { entityTypes?: string[]; signal?: AbortSignal } = {}): Promise<string> {
  let after: string | undefined;
  for (;;) {
    const page = await reader.readFeed({ after, limit: MAX_PAGE_SIZE, entityTypes: options.entityTypes, signal: options.signal });
    after = page.cursor;
    if (page.events.length < MAX_PAGE_SIZE) return after;
  }
}
