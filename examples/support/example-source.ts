import { endOfFeed, feedSource, HttpEventStore, kafkaSource, memoryCursorStore, type CursorStore, type EventSource } from 'eventuate-local-ts/client';

/**
 * Where an example's subscribers read events: Kafka when KAFKA_BROKERS is set (the server's relay
 * must publish there), otherwise the server's feed. The feed is read from where it ends now, with
 * cursors kept in memory for this run only, so a server full of
 * earlier runs' events is not replayed.
 */
export async function exampleSource(server: { url: string; apiKey?: string }, entityTypes: string[]): Promise<EventSource> {
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers) {
    // Consumer groups keep their offsets at the broker, so a second run goes on from the first.
    return kafkaSource({ brokers: brokers.split(','), topicPrefix: process.env.EVENTUATE_TOPIC_PREFIX ?? '' });
  }
  const end = await endOfFeed(new HttpEventStore(server), { entityTypes });
  return feedSource({ ...server, cursorStore: startingAt(end, memoryCursorStore()) });
}

/** A subscriber without a saved cursor starts at `start` instead of the beginning of the feed. */
function startingAt(start: string | undefined, cursors: CursorStore): CursorStore {
  return {
    load: async (subscriberId) => (await cursors.load(subscriberId)) ?? start,
    save: (subscriberId, cursor) => cursors.save(subscriberId, cursor),
  };
}
