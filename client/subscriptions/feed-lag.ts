import type { FeedReader } from './feed-end';

/** How far a feed position is behind the end of the feed. */
export interface FeedLag {
  /** Events of the subscriber's types after its position, counted up to `cap`. */
  events: number;
  /** True when there were more than `events` (the count stopped at the cap). */
  atLeast: boolean;
  /** Age of the oldest event waiting (0 when none waits): how late the subscriber is. */
  seconds: number;
}

/**
 * Reads the feed after `cursor` (one page of up to `cap` events) to see what waits: cheap enough to
 * ask at every metrics scrape, exact up to the cap.
 */
export async function feedLag(reader: FeedReader, cursor: string | undefined, entityTypes: string[] | undefined, cap = 1000, now = Date.now()): Promise<FeedLag> {
  const page = await reader.readFeed({ after: cursor, limit: cap, entityTypes });
  const oldest = page.events[0]?.createdAt;
  return {
    events: page.events.length,
    atLeast: page.events.length === cap,
    seconds: oldest === undefined ? 0 : Math.max(0, (now - Date.parse(oldest)) / 1000),
  };
}
