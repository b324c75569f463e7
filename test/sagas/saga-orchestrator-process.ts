/**
 * The order saga's orchestrator alone in a process of its own, for the crash and process tests: it
 * drives the PlaceOrderSaga instances of `EVENTUATE_SCHEMA` from the feed or Kafka (see
 * saga-process-source.ts) and starts no saga itself. Prints `orchestrator ready` once it reads its
 * source; runs until killed.
 */
import pino from 'pino';
import { SubscriptionManager, sagaOrchestrator } from '../../client';
import { orderSaga } from './order-saga-domain';
import { exitOnError, sagaProcessEnvironment, stopOnSigterm } from './saga-process-source';

async function main(): Promise<void> {
  const { store, source, deadLetters } = await sagaProcessEnvironment('saga-orchestrator-process');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const manager = new SubscriptionManager({ source, deadLetters, subscribers: [sagaOrchestrator(orderSaga, store, { logger, backoff: { baseMs: 10, maxMs: 100 } })], logger });
  await manager.start();
  console.log('orchestrator ready');
  stopOnSigterm(manager, store);
}

main().catch(exitOnError);
