import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedSource, fileCursorStore, HttpEventStore, kafkaSource, type CursorStore, type EventSource, type FeedReader } from '../../client';

export interface ExampleSource {
  source: EventSource;
  /** Removes what the source kept for this run only. */
  close(): Promise<void>;
}

/**
 * Where an example's subscribers read events: Kafka when KAFKA_BROKERS is set (the server's relay
 * must publish there), otherwise the server's feed. The feed is read from where it ends now, with
 * the cursor in a file of this run, so a server full of earlier runs' events is not replayed.
 */
export async function exampleSource(server: { url: string; apiKey?: string }, entityTypes: string[]): Promise<ExampleSource> {
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers) {
    // Consumer groups keep their offsets at the broker, so a second run goes on from the first.
    return { source: kafkaSource({ brokers: brokers.split(','), topicPrefix: process.env.EVENTUATE_TOPIC_PREFIX ?? '' }), close: async () => undefined };
  }
  const end = await endOfFeed(new HttpEventStore(server), entityTypes);
  const dir = await mkdtemp(join(tmpdir(), 'eventuate-example-'));
  return {
    source: feedSource({ ...server, cursorStore: startingAt(end, fileCursorStore({ dir })) }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A subscriber without a saved cursor starts at `start` instead of the beginning of the feed. */
function startingAt(start: string | undefined, cursors: CursorStore): CursorStore {
  return {
    load: async (subscriberId) => (await cursors.load(subscriberId)) ?? start,
    save: (subscriberId, cursor) => cursors.save(subscriberId, cursor),
  };
}

/** The feed has no "end" request: read until a read moves nowhere (a filtered page can be empty while its cursor moves). */
async function endOfFeed(feed: FeedReader, entityTypes: string[]): Promise<string | undefined> {
  let cursor: string | undefined;
  for (;;) {
    const page = await feed.readFeed({ after: cursor, limit: 1000, entityTypes });
    if (page.events.length === 0 && page.cursor === cursor) return cursor;
    cursor = page.cursor;
  }
}
