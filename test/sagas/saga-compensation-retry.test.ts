import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  AggregateRepository,
  PostgresEventStore,
  SubscriptionManager,
  deadlineScheduler,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  sagaOrchestrator,
  sagaParticipant,
  sagaTimeline,
  type DeadlineScheduler,
} from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { AddStock, Customer, FreezeCustomer, OpenCustomer, Warehouse, patientOrderSaga, sagaEndings, type OrderData } from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };

describe('compensation retries with backoff on PostgreSQL (PatientOrderSaga: waits of 1 s, then 1.5 s)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const managers: SubscriptionManager[] = [];
  const schedulers: DeadlineScheduler[] = [];
  const logged: Array<{ msg: string; sagaId?: string; error?: string }> = [];

  /** The orchestrator's service: the orchestrator and the scheduler of its sagas' deadlines, logging to `logged`. */
  async function startOrchestration(): Promise<SubscriptionManager> {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const deadlines = deadlineScheduler({ store, connectionString: db.connectionString, schema: `${db.schema}_deadlines`.toLowerCase(), entityTypes: [patientOrderSaga], pollMs: 100 });
    schedulers.push(deadlines);
    const manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 500 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [sagaOrchestrator(patientOrderSaga, store, { logger, ...fast }), deadlines],
      logger,
    });
    managers.push(manager);
    await manager.start();
    return manager;
  }

  beforeAll(async () => {
    db = testDatabase('sagaretry');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    const participants = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 500 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [sagaParticipant(Customer, store, { sagas: [patientOrderSaga], logger: quiet, ...fast }), sagaParticipant(Warehouse, store, { sagas: [patientOrderSaga], logger: quiet, ...fast })],
      logger: quiet,
    });
    managers.push(participants);
    await participants.start();
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    for (const scheduler of schedulers) await scheduler.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${db.schema}_deadlines" CASCADE`);
    await store.close();
    await db.drop();
  });

  jest.setTimeout(120_000);

  it('a refused compensation is sent again after its wait, across a restart of the orchestrator; after the last attempt the saga is failed, reported by hook and log, and the timeline tells it all', async () => {
    const customers = new AggregateRepository(Customer, store);
    const customerId = (await customers.save(new OpenCustomer(100))).entityId;
    await customers.update(customerId, new FreezeCustomer()); // reserves, but never releases
    const warehouseId = (await new AggregateRepository(Warehouse, store).save(new AddStock(1))).entityId;
    const data: OrderData = { orderId: randomUUID(), customerId, warehouseId, courierId: 'none', amount: 50, quantity: 2, delivery: false };

    const first = await startOrchestration();
    // Only for start and find: the sagas are driven by the orchestration's service.
    const orders = sagaOrchestrator(patientOrderSaga, store, { logger: quiet });
    const { sagaId } = await orders.start(data);
    // The first compensation is refused: the second attempt waits for its deadline, in the saga's stream.
    await eventually(async () => (await orders.find(sagaId)).compensationRetry !== undefined, 'the first compensation retry is scheduled', 30_000);
    expect((await orders.find(sagaId)).compensationRetry).toMatchObject({ step: 'reserveCredit', attempt: 2 });
    // The orchestrator's service goes down while the retry waits, and comes back after it fell due.
    await first.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await startOrchestration();

    expect(await sagaEnded(orders, sagaId, 60_000)).toMatchObject({ status: 'failed', failure: { step: 'reserveCredit' } });
    const { events } = await store.history(patientOrderSaga.name, sagaId, { limit: 1000 });
    const sent = events.filter((e) => e.eventType === 'SagaCompensationRequested').map((e) => Date.parse(e.createdAt));
    expect(sent).toHaveLength(3);
    // Each attempt waited its backoff after the refusal before it (1 s, then 2 s capped at 1.5 s).
    const refused = events.filter((e) => e.eventType === 'SagaCompensationFailed').map((e) => Date.parse(e.createdAt));
    const dueAt = events.filter((e) => e.eventType === 'DeadlineScheduled').map((e) => Date.parse(String(e.eventData.dueAt)));
    expect(dueAt).toHaveLength(2);
    // Sent no sooner than due; due a backoff after the decision, which the orchestrator takes (its clock)
    // a moment before the refusal's append commits (its createdAt, the database's clock): hence the 100 ms.
    expect(sent[1]).toBeGreaterThanOrEqual(dueAt[0]);
    expect(sent[2]).toBeGreaterThanOrEqual(dueAt[1]);
    expect(dueAt[0] - refused[0]).toBeGreaterThanOrEqual(1000 - 100);
    expect(dueAt[1] - refused[1]).toBeGreaterThanOrEqual(1500 - 100);

    const told = sagaTimeline(events).map((entry) => `${entry.step ?? ''} ${entry.what}`.trim());
    expect(told).toEqual([
      'started',
      'reserveCredit action sent',
      'reserveCredit succeeded',
      'reserveStock action sent',
      'reserveStock failed',
      'reserveCredit compensation sent',
      'reserveCredit compensation failed (attempt 1)',
      'reserveCredit compensation retry scheduled (attempt 2)',
      'reserveCredit compensation retry due',
      'reserveCredit compensation sent (attempt 2)',
      'reserveCredit compensation failed (attempt 2)',
      'reserveCredit compensation retry scheduled (attempt 3)',
      'reserveCredit compensation retry due',
      'reserveCredit compensation sent (attempt 3)',
      'reserveCredit compensation failed (attempt 3)',
      'reserveCredit failed',
    ]);
    await eventually(() => sagaEndings.some((e) => e.sagaId === sagaId && e.ending === 'failed'), 'the onFailed hook ran', 10_000);
    expect(sagaEndings.find((e) => e.sagaId === sagaId)).toMatchObject({ step: 'reserveCredit', reason: expect.stringContaining('failed 3 times; last: Error: customer is frozen') });
    await eventually(() => logged.some((line) => line.msg === 'saga failed and needs a person' && line.sagaId === sagaId), 'the failure is logged as an error', 10_000);
    // The customer still holds the credit: a person must look, and the saga says so.
    expect((await customers.find(customerId)).entity.reservations).toEqual({ [data.orderId]: 50 });
  });
});
