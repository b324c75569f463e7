import { Gauge, Registry } from 'prom-client';
import type { FeedTail } from './feed-tail';
import type { ReaderSlots } from './reader-slots';

/** The feed's readers and what they cost the database, as Prometheus gauges read at scrape time. */
export function registerFeedMetrics(registry: Registry, feed: { tail: FeedTail; streams: ReaderSlots; longPolls: ReaderSlots }): void {
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  gauge('eventuate_feed_streams_open', 'SSE streams of the feed open now', () => feed.streams.inUse);
  gauge('eventuate_feed_long_polls_open', 'Long polls of the feed (waitMs above 0) under way now', () => feed.longPolls.inUse);
  gauge('eventuate_feed_readers_waiting', 'Long polls and streams waiting at the feed tail for events of their types', () => feed.tail.waiting);
  gauge('eventuate_feed_tail_reads', 'Reads of the database by the feed tail since the server started (one per new page, whatever the number of readers)', () => feed.tail.stats.tailReads);
  gauge('eventuate_feed_catch_up_reads', 'Reads of the database by feed readers behind the tail, and feed reads without waitMs, since the server started', () => feed.tail.stats.catchUpReads);
}
