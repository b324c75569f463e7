/**
 * The order saga's three participants (customer, warehouse, courier) alone in a process of their
 * own, as a participant service deployed apart from the orchestrator: they take the PlaceOrderSaga
 * commands of `EVENTUATE_SCHEMA` from the feed or Kafka (see saga-process-source.ts). Used by the
 * process and crash tests and by `npm run bench -- saga`. Prints `participants ready` once they read
 * their source; runs until killed.
 */
import pino from 'pino';
import { SubscriptionManager, sagaParticipant } from '../../client';
import { Courier, Customer, Warehouse, orderSaga } from './order-saga-domain';
import { exitOnError, sagaProcessEnvironment, stopOnSigterm } from './saga-process-source';

async function main(): Promise<void> {
  const { store, source, deadLetters } = await sagaProcessEnvironment('saga-participant-process');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const options = { sagas: [orderSaga], logger, backoff: { baseMs: 10, maxMs: 100 } };
  const manager = new SubscriptionManager({
    source,
    deadLetters,
    subscribers: [sagaParticipant(Customer, store, options), sagaParticipant(Warehouse, store, options), sagaParticipant(Courier, store, options)],
    logger,
  });
  await manager.start();
  console.log('participants ready');
  stopOnSigterm(manager, store);
}

main().catch(exitOnError);
