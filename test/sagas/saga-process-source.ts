/**
 * What a saga process of the tests (orchestrator or participants, each alone in a child process)
 * reads from its environment: the store's database and schema, and where it takes events from.
 * SAGA_SOURCE=feed (default): the store's feed, with its cursor and dead letters in PostgreSQL, so a
 * restart resumes where the killed one last saved. SAGA_SOURCE=kafka: the relay's topics
 * (KAFKA_BROKERS, EVENTUATE_TOPIC_PREFIX), its offsets in the consumer group, named with the same prefix.
 */
import { PostgresEventStore, feedSource, postgresCursorStore, postgresDeadLetters, type DeadLetterStore, type EventSource } from '../../client';
import { testKafkaSource } from '../support/test-kafka-source';

export interface SagaProcessEnvironment {
  connectionString: string;
  schema: string;
  store: PostgresEventStore;
  source: EventSource;
  deadLetters: DeadLetterStore;
}

export async function sagaProcessEnvironment(what: string): Promise<SagaProcessEnvironment> {
  const connectionString = process.env.DATABASE_URL;
  const schema = process.env.EVENTUATE_SCHEMA;
  if (!connectionString || !schema) throw new Error(`${what} needs DATABASE_URL and EVENTUATE_SCHEMA`);
  const store = await PostgresEventStore.connect({ connectionString, schema, poolSize: 5 });
  const kind = process.env.SAGA_SOURCE ?? 'feed';
  let source: EventSource;
  if (kind === 'feed') source = feedSource({ store, cursorStore: postgresCursorStore({ connectionString, schema }), waitMs: 1000 });
  else if (kind === 'kafka') {
    if (!process.env.KAFKA_BROKERS) throw new Error(`${what} with SAGA_SOURCE=kafka needs KAFKA_BROKERS`);
    source = testKafkaSource(process.env.EVENTUATE_TOPIC_PREFIX ?? '');
  } else throw new Error(`${what}: SAGA_SOURCE is '${kind}'; it takes feed or kafka`);
  return { connectionString, schema, store, source, deadLetters: postgresDeadLetters({ connectionString, schema }) };
}

/** Stops the manager, then `also` (a deadline scheduler's pool), then the store on SIGTERM and exits; SIGKILL (the crash tests) ends it anywhere. */
export function stopOnSigterm(manager: { stop(): Promise<void> }, store: PostgresEventStore, also?: { close(): Promise<void> }): void {
  process.once('SIGTERM', () => {
    void (async () => {
      await manager.stop();
      await also?.close();
      await store.close();
      process.exit(0);
    })();
  });
}

export function exitOnError(error: unknown): void {
  console.error(error);
  process.exit(1);
}
