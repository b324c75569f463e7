/**
 * The order saga's orchestrator alone in a process of its own, for the crash tests: it drives the
 * PlaceOrderSaga instances of `EVENTUATE_SCHEMA` from the feed, with its cursor and dead letters in
 * PostgreSQL (so a restart resumes where the killed one last saved), and starts no saga itself.
 * Prints `orchestrator ready` once it reads the feed; runs until killed.
 */
import pino from 'pino';
import { PostgresEventStore, SubscriptionManager, feedSource, postgresCursorStore, postgresDeadLetters, sagaOrchestrator } from '../../client';
import { orderSaga } from './order-saga-domain';

async function main(): Promise<void> {
  const connectionString = process.env.DATABASE_URL;
  const schema = process.env.EVENTUATE_SCHEMA;
  if (!connectionString || !schema) throw new Error('saga-orchestrator-process needs DATABASE_URL and EVENTUATE_SCHEMA');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const store = await PostgresEventStore.connect({ connectionString, schema, poolSize: 5 });
  const manager = new SubscriptionManager({
    source: feedSource({ store, cursorStore: postgresCursorStore({ connectionString, schema }), waitMs: 1000 }),
    deadLetters: postgresDeadLetters({ connectionString, schema }),
    subscribers: [sagaOrchestrator(orderSaga, store, { logger, backoff: { baseMs: 10, maxMs: 100 } })],
    logger,
  });
  await manager.start();
  console.log('orchestrator ready');
  const stop = async () => {
    await manager.stop();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
