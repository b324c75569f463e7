/**
 * The order saga's orchestrator alone in a process of its own, for the crash and process tests: it
 * drives the PlaceOrderSaga instances of `EVENTUATE_SCHEMA` from the feed or Kafka (see
 * saga-process-source.ts) and starts no saga itself. SAGA_TIMED=1: it drives the TimedOrderSaga
 * instances instead, and fires their deadlines with a deadline scheduler whose index is the schema
 * `<EVENTUATE_SCHEMA>_deadlines` (shared by every such process, as by two deployments). Prints
 * `orchestrator ready` once it reads its source; runs until killed.
 */
import pino from 'pino';
import { SubscriptionManager, deadlineScheduler, sagaOrchestrator } from '../../client';
import { orderSaga, timedOrderSaga } from './order-saga-domain';
import { exitOnError, sagaProcessEnvironment, stopOnSigterm } from './saga-process-source';

async function main(): Promise<void> {
  const { connectionString, schema, store, source, deadLetters } = await sagaProcessEnvironment('saga-orchestrator-process');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const timed = process.env.SAGA_TIMED === '1';
  const orchestrator = sagaOrchestrator(timed ? timedOrderSaga : orderSaga, store, { logger, backoff: { baseMs: 10, maxMs: 100 } });
  const deadlines = timed ? deadlineScheduler({ store, connectionString, schema: `${schema}_deadlines`.toLowerCase(), entityTypes: [timedOrderSaga], pollMs: 200, logger }) : undefined;
  const manager = new SubscriptionManager({ source, deadLetters, subscribers: deadlines ? [orchestrator, deadlines] : [orchestrator], logger });
  await manager.start();
  console.log('orchestrator ready');
  stopOnSigterm(manager, store, deadlines);
}

main().catch(exitOnError);
