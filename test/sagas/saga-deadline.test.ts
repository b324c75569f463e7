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
  type DeadlineScheduler,
  type SagaOrchestrator,
} from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, courierTimedOutTimeline, timedOrderSaga, type OrderData } from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };

describe('saga step deadlines on PostgreSQL (the courier must answer within 800 ms)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let orders: SagaOrchestrator<OrderData>;
  let deadlines: DeadlineScheduler;
  const managers: SubscriptionManager[] = [];
  let customers: AggregateRepository<Customer>;
  let warehouses: AggregateRepository<Warehouse>;
  let couriers: AggregateRepository<Courier>;

  async function run(subscribers: ConstructorParameters<typeof SubscriptionManager>[0]['subscribers']): Promise<void> {
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 500 }), deadLetters: memoryDeadLetters(), subscribers, logger: quiet });
    managers.push(manager);
    await manager.start();
  }

  beforeAll(async () => {
    db = testDatabase('sagadeadline');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    customers = new AggregateRepository(Customer, store);
    warehouses = new AggregateRepository(Warehouse, store);
    couriers = new AggregateRepository(Courier, store);
    orders = sagaOrchestrator(timedOrderSaga, store, { logger: quiet, ...fast });
    // #region deadline-wiring
    deadlines = deadlineScheduler({ store, connectionString: db.connectionString, schema: `${db.schema}_deadlines`.toLowerCase(), entityTypes: [timedOrderSaga], pollMs: 100 });
    await run([orders, deadlines]); // the orchestrator's service fires its sagas' deadlines
    // #endregion
    await run([sagaParticipant(Customer, store, { sagas: [timedOrderSaga], logger: quiet, ...fast }), sagaParticipant(Warehouse, store, { sagas: [timedOrderSaga], logger: quiet, ...fast })]);
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await deadlines?.close();
    await store?.close();
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: db.connectionString, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${deadlines.schema}" CASCADE`);
    await pool.end();
    await db?.drop();
  });

  async function parties(): Promise<OrderData> {
    const customer = await customers.save(new OpenCustomer(100));
    const warehouse = await warehouses.save(new AddStock(5));
    const courier = await couriers.save(new OpenCourier(true));
    return { orderId: randomUUID(), customerId: customer.entityId, warehouseId: warehouse.entityId, courierId: courier.entityId, amount: 50, quantity: 2, delivery: true };
  }

  async function timeline(sagaId: string): Promise<string[]> {
    const history = await store.history(timedOrderSaga.name, sagaId, { limit: 1000 });
    return history.events.map((e) => (e.eventData.step ? `${e.eventType}(${String(e.eventData.step)})` : e.eventType));
  }

  it('the courier does not answer in time: the step fails, and its late success is undone before the steps before are compensated in reverse order', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    // No courier service runs yet: the deadline fires and the saga sends the courier its compensation.
    await waitUntil(async () => (await timeline(sagaId)).includes('SagaCompensationRequested(scheduleDelivery)'), 20_000);
    expect((await orders.find(sagaId)).status).toBe('compensating');
    // The courier's service comes back: it applies the action it was sent (a success, late), then its compensation.
    await run([sagaParticipant(Courier, store, { sagas: [timedOrderSaga], logger: quiet, ...fast })]);
    const state = await sagaEnded(orders, sagaId);
    expect(state).toMatchObject({ status: 'rolledBack', failure: { step: 'scheduleDelivery', reason: expect.stringContaining('did not answer step') }, doneSteps: [] });
    expect(await timeline(sagaId)).toEqual(courierTimedOutTimeline);
    const courierHistory = (await store.history('SagaCourier', data.courierId)).events.map((e) => e.eventType);
    expect(courierHistory).toEqual(['CourierOpened', 'CourierNoted', 'DeliveryScheduled', 'DeliveryCancelled']); // the late success, undone
    expect((await couriers.find(data.courierId)).entity.deliveries).toEqual([]);
    expect((await warehouses.find(data.warehouseId)).entity).toMatchObject({ stock: 5, reservations: {} });
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({});
  });

  it('the courier answers in time: the deadline is cancelled in the same append, never fires, and the saga completes', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    expect(await sagaEnded(orders, sagaId)).toMatchObject({ status: 'completed' });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // well past the 800 ms, with the scheduler polling every 100 ms
    const events = (await timeline(sagaId)).slice(5);
    expect(events).toEqual(['SagaStepRequested(scheduleDelivery)', 'DeadlineScheduled', 'DeadlineCancelled', 'SagaStepSucceeded(scheduleDelivery)', 'SagaCompleted']);
    const scheduled = (await store.history(timedOrderSaga.name, sagaId)).events.find((e) => e.eventType === 'DeadlineScheduled')!;
    expect(await deadlines.find(String(scheduled.eventData.deadlineId))).toMatchObject({ status: 'cancelled', settled: false });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
