import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  AggregateRepository,
  PostgresEventStore,
  SAGA_METADATA_KEYS,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  sagaOrchestrator,
  sagaParticipant,
  type SagaOrchestrator,
} from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import {
  AddStock,
  Courier,
  Customer,
  FreezeCustomer,
  OpenCourier,
  OpenCustomer,
  Warehouse,
  orderSaga,
  sagaEndings,
  type OrderData,
} from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };

describe('orchestrated sagas on PostgreSQL: orchestrator and participants in separate subscription managers', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let orchestration: SubscriptionManager;
  let participation: SubscriptionManager;
  let orders: SagaOrchestrator<OrderData>;
  let customers: AggregateRepository<Customer>;
  let warehouses: AggregateRepository<Warehouse>;
  let couriers: AggregateRepository<Courier>;

  beforeAll(async () => {
    db = testDatabase('sagas');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    customers = new AggregateRepository(Customer, store);
    warehouses = new AggregateRepository(Warehouse, store);
    couriers = new AggregateRepository(Courier, store);
    // #region wiring
    // The orchestrator's service: it starts PlaceOrderSaga instances and drives them from the replies.
    orders = sagaOrchestrator(orderSaga, store, { logger: quiet, ...fast });
    orchestration = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [orders],
      logger: quiet,
    });
    // Each participant's service (here another manager in the same process): commands in, replies out.
    participation = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [
        sagaParticipant(Customer, store, { sagas: [orderSaga], logger: quiet, ...fast }),
        sagaParticipant(Warehouse, store, { sagas: [orderSaga], logger: quiet, ...fast }),
        sagaParticipant(Courier, store, { sagas: [orderSaga], logger: quiet, ...fast }),
      ],
      logger: quiet,
    });
    await orchestration.start();
    await participation.start();
    // #endregion
  });

  afterAll(async () => {
    await orchestration?.stop();
    await participation?.stop();
    await store?.close();
    await db?.drop();
  });

  /** A customer, a warehouse and a courier of their own, and the saga's data for them. */
  async function parties(options: { creditLimit?: number; stock?: number; courierAccepts?: boolean; frozen?: boolean } = {}): Promise<OrderData> {
    const customer = await customers.save(new OpenCustomer(options.creditLimit ?? 100));
    if (options.frozen) await customers.update(customer.entityId, new FreezeCustomer());
    const warehouse = await warehouses.save(new AddStock(options.stock ?? 5));
    const courier = await couriers.save(new OpenCourier(options.courierAccepts ?? true));
    return { orderId: randomUUID(), customerId: customer.entityId, warehouseId: warehouse.entityId, courierId: courier.entityId, amount: 50, quantity: 2, delivery: true };
  }

  async function timeline(sagaId: string): Promise<string[]> {
    const history = await store.history(orderSaga.name, sagaId, { limit: 1000 });
    return history.events.map((e) => (e.eventData.step ? `${e.eventType}(${String(e.eventData.step)})` : e.eventType));
  }

  const endingsOf = (sagaId: string) => sagaEndings.filter((ending) => ending.sagaId === sagaId);

  it('runs every step and completes; the replies carry the saga and command ids; the completed hook hears it', async () => {
    const data = await parties();
    // #region start
    const { sagaId } = await orders.start(data); // { orderId, customerId, warehouseId, courierId, amount: 50, quantity: 2, delivery: true }
    const state = await sagaEnded(orders, sagaId); // orders.find(sagaId) until it ended
    // #endregion
    expect(state).toMatchObject({ status: 'completed', data: { creditReserved: 50, slot: 'slot-1' }, doneSteps: ['reserveCredit', 'reserveStock', 'scheduleDelivery'] });
    expect(await timeline(sagaId)).toEqual([
      'SagaStarted',
      'SagaStepRequested(reserveCredit)',
      'SagaStepSucceeded(reserveCredit)',
      'SagaStepRequested(reserveStock)',
      'SagaStepSucceeded(reserveStock)',
      'SagaStepRequested(scheduleDelivery)',
      'SagaStepSucceeded(scheduleDelivery)',
      'SagaCompleted',
    ]);
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({ [data.orderId]: 50 });
    expect((await warehouses.find(data.warehouseId)).entity.stock).toBe(3);
    const reply = (await store.history('SagaCustomer', data.customerId)).events[1];
    const requested = (await store.history(orderSaga.name, sagaId)).events[1];
    expect(reply.metadata).toMatchObject({ [SAGA_METADATA_KEYS.sagaId]: sagaId, [SAGA_METADATA_KEYS.commandId]: requested.eventData.commandId, correlationId: sagaId, causationId: requested.eventId });
    expect(reply.triggeringEventToken).toBe(requested.eventData.commandId);
    await waitUntil(() => endingsOf(sagaId).length > 0);
    expect(endingsOf(sagaId)[0]).toEqual({ sagaId, ending: 'completed' });
  });

  it('a refusal at the first step rolls back with nothing to compensate', async () => {
    const data = await parties({ creditLimit: 10 });
    const { sagaId } = await orders.start(data);
    expect(await sagaEnded(orders, sagaId)).toMatchObject({ status: 'rolledBack', failure: { step: 'reserveCredit' }, data: { refusal: 'only 10 available' } });
    expect(await timeline(sagaId)).toEqual(['SagaStarted', 'SagaStepRequested(reserveCredit)', 'SagaStepFailed(reserveCredit)', 'SagaRolledBack']);
  });

  it("a participant's @Process that throws at the second step answers a failure, recorded on its entity; the first step is compensated", async () => {
    const data = await parties({ stock: 0 });
    const { sagaId } = await orders.start(data);
    const state = await sagaEnded(orders, sagaId);
    expect(state).toMatchObject({ status: 'rolledBack', failure: { step: 'reserveStock', reason: expect.stringContaining('OutOfStockError: 2 wanted, 0 in stock') } });
    expect(await timeline(sagaId)).toEqual([
      'SagaStarted',
      'SagaStepRequested(reserveCredit)',
      'SagaStepSucceeded(reserveCredit)',
      'SagaStepRequested(reserveStock)',
      'SagaStepFailed(reserveStock)',
      'SagaCompensationRequested(reserveCredit)',
      'SagaCompensationDone(reserveCredit)',
      'SagaRolledBack',
    ]);
    const warehouseHistory = await store.history('SagaWarehouse', data.warehouseId);
    expect(warehouseHistory.events.map((e) => e.eventType)).toEqual(['StockAdded', 'SagaCommandFailed']);
    expect((await warehouses.find(data.warehouseId)).entity.stock).toBe(0); // the record replays as nothing
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({});
    await waitUntil(() => endingsOf(sagaId).length > 0);
    expect(endingsOf(sagaId)[0]).toMatchObject({ ending: 'rolledBack', step: 'reserveStock' });
  });

  it('a refusal at the third step compensates the second step, then the first', async () => {
    const data = await parties({ courierAccepts: false });
    const { sagaId } = await orders.start(data);
    expect(await sagaEnded(orders, sagaId)).toMatchObject({ status: 'rolledBack', failure: { step: 'scheduleDelivery' }, doneSteps: [] });
    expect((await timeline(sagaId)).slice(6)).toEqual([
      'SagaStepFailed(scheduleDelivery)',
      'SagaCompensationRequested(reserveStock)',
      'SagaCompensationDone(reserveStock)',
      'SagaCompensationRequested(reserveCredit)',
      'SagaCompensationDone(reserveCredit)',
      'SagaRolledBack',
    ]);
    expect((await warehouses.find(data.warehouseId)).entity).toMatchObject({ stock: 5, reservations: {} });
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({});
  });

  it('a compensation that keeps failing is sent again, then the saga is marked failed and reported', async () => {
    const data = await parties({ stock: 0, frozen: true });
    const { sagaId } = await orders.start(data);
    const state = await sagaEnded(orders, sagaId);
    expect(state).toMatchObject({
      status: 'failed',
      failure: { step: 'reserveCredit', reason: expect.stringMatching(/compensation of step 'reserveCredit' failed 3 times; last: Error: customer is frozen/) },
    });
    expect((await timeline(sagaId)).slice(4)).toEqual([
      'SagaStepFailed(reserveStock)',
      'SagaCompensationRequested(reserveCredit)',
      'SagaCompensationFailed(reserveCredit)',
      'SagaCompensationRequested(reserveCredit)',
      'SagaCompensationFailed(reserveCredit)',
      'SagaCompensationRequested(reserveCredit)',
      'SagaCompensationFailed(reserveCredit)',
      'SagaFailed(reserveCredit)',
    ]);
    // Honest: the credit is still reserved, which is why a person must look.
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({ [data.orderId]: 50 });
    await waitUntil(() => endingsOf(sagaId).length > 0);
    expect(endingsOf(sagaId)[0]).toMatchObject({ ending: 'failed', step: 'reserveCredit', reason: expect.stringContaining('customer is frozen') });
  });

  it('concurrent sagas on shared participants all end, and every reservation matches a completed saga', async () => {
    const shared = await parties({ creditLimit: 50 * 6, stock: 2 * 8 });
    const sagas = await Promise.all(Array.from({ length: 12 }, () => orders.start({ ...shared, orderId: randomUUID() })));
    const ended = await Promise.all(sagas.map(({ sagaId }) => sagaEnded(orders, sagaId, 60_000)));
    const completed = ended.filter((s) => s.status === 'completed');
    expect(ended.every((s) => s.status === 'completed' || s.status === 'rolledBack')).toBe(true);
    expect(completed).toHaveLength(6); // credit for 6 orders, stock for 8
    const customer = (await customers.find(shared.customerId)).entity;
    expect(Object.keys(customer.reservations).sort()).toEqual(completed.map((s) => s.data.orderId).sort());
    const warehouse = (await warehouses.find(shared.warehouseId)).entity;
    expect(warehouse.stock).toBe(16 - 2 * completed.length);
    expect(Object.keys(warehouse.reservations).sort()).toEqual(completed.map((s) => s.data.orderId).sort());
    expect((await couriers.find(shared.courierId)).entity.deliveries.sort()).toEqual(completed.map((s) => s.data.orderId).sort());
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
