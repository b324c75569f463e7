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
  type SagaOrchestrator,
} from '../../client';
import { SagaDeadlineWatch } from '../../client/sagas/saga-deadline-watch';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, timedOrderSaga, type OrderData } from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };
/** Well above a loaded machine's scheduler lag (pollMs 100 plus the index catching up), so that a deadline a running scheduler fires is never reported. */
const OVERDUE_AFTER_MS = 3000;

interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose records the test reads. */
function capturingLogger(): { logger: pino.Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line)) }), records };
}

const ERROR = 50;

describe("the orchestrator's watch over its sagas' deadlines (the courier step's is 800 ms; reported 3 s overdue)", () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let orders: SagaOrchestrator<OrderData>;
  let deadlines: DeadlineScheduler | undefined;
  const managers: SubscriptionManager[] = [];
  const log = capturingLogger();
  let courierService: SubscriptionManager | undefined;

  async function run(subscribers: ConstructorParameters<typeof SubscriptionManager>[0]['subscribers'], logger = quiet): Promise<SubscriptionManager> {
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 500 }), deadLetters: memoryDeadLetters(), subscribers, logger });
    managers.push(manager);
    await manager.start();
    return manager;
  }

  beforeAll(async () => {
    db = testDatabase('sagawatch');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    orders = sagaOrchestrator(timedOrderSaga, store, { ...fast, overdueAfterMs: OVERDUE_AFTER_MS });
    // The orchestrator's service, deployed without a deadline scheduler.
    await run([orders], log.logger);
    await run([sagaParticipant(Customer, store, { sagas: [timedOrderSaga], logger: quiet, ...fast }), sagaParticipant(Warehouse, store, { sagas: [timedOrderSaga], logger: quiet, ...fast })]);
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await deadlines?.close();
    await store?.close();
    if (deadlines) {
      const { Pool } = await import('pg');
      const pool = new Pool({ connectionString: db.connectionString, max: 1 });
      await pool.query(`DROP SCHEMA IF EXISTS "${deadlines.schema}" CASCADE`);
      await pool.end();
    }
    await db?.drop();
  });

  async function parties(): Promise<OrderData> {
    const customer = await new AggregateRepository(Customer, store).save(new OpenCustomer(100));
    const warehouse = await new AggregateRepository(Warehouse, store).save(new AddStock(5));
    const courier = await new AggregateRepository(Courier, store).save(new OpenCourier(true));
    return { orderId: randomUUID(), customerId: customer.entityId, warehouseId: warehouse.entityId, courierId: courier.entityId, amount: 50, quantity: 2, delivery: true };
  }

  async function deadlineEntry(sagaId: string) {
    const history = await store.history(timedOrderSaga.name, sagaId, { limit: 1000 });
    return sagaTimeline(history.events).find((entry) => entry.eventType === 'DeadlineScheduled')!;
  }

  const stalledErrors = () => log.records.filter((record) => record.level === ERROR && record.msg.includes('is stalled'));

  it('no scheduler fires the deadline: an error names the saga, the step, the deadline and the fix, the timeline shows it overdue; a scheduler started then fires it and the report clears', async () => {
    const { sagaId } = await orders.start(await parties());
    await eventually(() => orders.overdueDeadlines().length > 0, 'the deadline reported overdue', 20_000);

    const [overdue] = orders.overdueDeadlines();
    const entry = await deadlineEntry(sagaId);
    expect(overdue).toMatchObject({ sagaType: 'TimedOrderSaga', sagaId, step: 'scheduleDelivery', kind: 'step', deadlineId: entry.pendingDeadline!.deadlineId });
    expect(overdue.overdueMs).toBeGreaterThanOrEqual(OVERDUE_AFTER_MS);
    const errors = stalledErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ saga: 'TimedOrderSaga', sagaId, step: 'scheduleDelivery', deadlineId: overdue.deadlineId, dueAt: overdue.dueAt });
    expect(errors[0].msg).toContain(`saga TimedOrderSaga ${sagaId} is stalled: the deadline of step 'scheduleDelivery' (deadline ${overdue.deadlineId}`);
    expect(errors[0].msg).toMatch(/is overdue by \d+ s and has not fired: no deadlineScheduler fires deadlines of entity type 'TimedOrderSaga'/);
    expect(errors[0].msg).toContain("start one with entityTypes including 'TimedOrderSaga'");
    expect(errors[0].msg).toContain('see README');
    // The timeline shows the deadline pending, past due; the saga still waits on the courier.
    expect(entry).toMatchObject({ step: 'scheduleDelivery', what: 'deadline set', pendingDeadline: { deadlineId: overdue.deadlineId, dueAt: overdue.dueAt } });
    expect(entry.pendingDeadline!.overdueMs).toBeGreaterThanOrEqual(OVERDUE_AFTER_MS);
    expect((await orders.find(sagaId)).status).toBe('running');

    // The forgotten scheduler is deployed: the deadline fires, the saga compensates, the report clears.
    deadlines = deadlineScheduler({ store, connectionString: db.connectionString, schema: `${db.schema}_deadlines`.toLowerCase(), entityTypes: [timedOrderSaga], pollMs: 100 });
    await run([deadlines]);
    await eventually(async () => (await orders.find(sagaId)).status === 'compensating', 'the deadline fired and the saga compensating', 20_000);
    // The courier's service too, to answer the compensation.
    courierService = await run([sagaParticipant(Courier, store, { sagas: [timedOrderSaga], logger: quiet, ...fast })]);
    expect(await sagaEnded(orders, sagaId)).toMatchObject({ status: 'rolledBack', failure: { step: 'scheduleDelivery', reason: expect.stringContaining('did not answer step') } });
    await eventually(() => orders.overdueDeadlines().length === 0, 'the overdue report cleared', 10_000);
    expect((await deadlineEntry(sagaId)).pendingDeadline).toBeUndefined();
    expect(stalledErrors()).toHaveLength(1); // reported once, not again
  });

  it('with a scheduler running, a deadline that fires and one that is cancelled are never reported', async () => {
    expect(deadlines).toBeDefined(); // started by the test before
    const errorsBefore = stalledErrors().length;
    // The courier answers in time: the deadline is cancelled.
    const answered = await orders.start(await parties());
    expect(await sagaEnded(orders, answered.sagaId)).toMatchObject({ status: 'completed' });
    // The courier's service is down: the scheduler fires the deadline and the saga compensates.
    await courierService!.stop();
    const unanswered = await orders.start(await parties());
    await eventually(async () => (await orders.find(unanswered.sagaId)).status === 'compensating', 'the deadline fired and the saga compensating', 20_000);
    await new Promise((resolve) => setTimeout(resolve, OVERDUE_AFTER_MS + 1000)); // past the point a stalled deadline is reported
    expect(orders.overdueDeadlines()).toEqual([]);
    expect(stalledErrors()).toHaveLength(errorsBefore);
    await run([sagaParticipant(Courier, store, { sagas: [timedOrderSaga], logger: quiet, ...fast })]);
    expect(await sagaEnded(orders, unanswered.sagaId)).toMatchObject({ status: 'rolledBack' });
  });

  it('checks the store before reporting: a deadline fired there (by a scheduler elsewhere) that the orchestrator has not read yet is not reported', async () => {
    const sagaType = `WatchedSaga${Date.now().toString(36)}`;
    const dueAt = new Date(Date.now() - 60_000).toISOString();
    const stream = (deadlineId: string, fired: boolean) => [
      { eventType: 'SagaStarted', eventData: { data: {} } },
      { eventType: 'SagaStepRequested', eventData: { step: 'book', commandId: 'c-1', participantType: 'Hotel', participantId: 'h-1', commandType: 'BookRoom', command: {} } },
      { eventType: 'DeadlineScheduled', eventData: { deadlineId, name: 'saga step book', dueAt, payload: { step: 'book', commandId: 'c-1', ms: 1000 } } },
      ...(fired ? [{ eventType: 'DeadlineFired', eventData: { deadlineId, name: 'saga step book', dueAt, payload: { step: 'book', commandId: 'c-1', ms: 1000 } } }] : []),
    ];
    await store.create({ entityType: sagaType, entityId: 'fired', events: stream('d-fired', true) });
    await store.create({ entityType: sagaType, entityId: 'stalled', events: stream('d-stalled', false) });
    const watch = new SagaDeadlineWatch(sagaType, store, OVERDUE_AFTER_MS);
    watch.scheduled('fired', 'd-fired', dueAt);
    watch.scheduled('stalled', 'd-stalled', dueAt);
    const own = capturingLogger();
    await watch.check(own.logger);
    expect(watch.overdue().map((d) => [d.sagaId, d.deadlineId, d.step])).toEqual([['stalled', 'd-stalled', 'book']]);
    expect(own.records.filter((r) => r.level === ERROR).map((r) => r.deadlineId)).toEqual(['d-stalled']);
    // Reported once: checking again neither logs again nor forgets it.
    await watch.check(own.logger);
    expect(own.records.filter((r) => r.level === ERROR)).toHaveLength(1);
    watch.settled('d-stalled', own.logger);
    expect(watch.overdue()).toEqual([]);
  });
});
