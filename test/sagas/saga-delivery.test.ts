import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  AggregateRepository,
  PostgresEventStore,
  SagaCompensationRequested,
  SAGA_METADATA_KEYS,
  sagaOrchestrator,
  sagaParticipant,
  serializeEvent,
  type EventRunner,
  type StoredEvent,
} from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, type OrderData } from './order-saga-domain';

const quiet = pino({ level: 'silent' });

/**
 * Deliveries made by hand, in any order and any number of times, to the runners the
 * SubscriptionManager would use: what a redelivering or reordering source can do.
 */
describe('saga deliveries: duplicates, reordering, redelivered commands, tombstones', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let orders: ReturnType<typeof sagaOrchestrator<OrderData>>;
  let orchestrator: EventRunner;
  let participants: Record<'SagaCustomer' | 'SagaWarehouse' | 'SagaCourier', EventRunner>;
  let customers: AggregateRepository<Customer>;
  let warehouses: AggregateRepository<Warehouse>;

  beforeAll(async () => {
    db = testDatabase('sagadeliv');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    customers = new AggregateRepository(Customer, store);
    warehouses = new AggregateRepository(Warehouse, store);
    orders = sagaOrchestrator(orderSaga, store, { logger: quiet, maxAttempts: 1 });
    orchestrator = (await orders.open(quiet)).runner;
    const open = async (cls: any) => (await sagaParticipant(cls, store, { sagas: [orderSaga], logger: quiet, maxAttempts: 1 }).open(quiet)).runner;
    participants = { SagaCustomer: await open(Customer), SagaWarehouse: await open(Warehouse), SagaCourier: await open(Courier) };
  });

  afterAll(async () => {
    await orders?.closed(); // as the SubscriptionManager does when it stops: ends the deadline watch
    await store?.close();
    await db?.drop();
  });

  async function parties(options: { stock?: number } = {}): Promise<OrderData> {
    const customer = await customers.save(new OpenCustomer(100));
    const warehouse = await warehouses.save(new AddStock(options.stock ?? 5));
    const courier = await new AggregateRepository(Courier, store).save(new OpenCourier(true));
    return { orderId: randomUUID(), customerId: customer.entityId, warehouseId: warehouse.entityId, courierId: courier.entityId, amount: 50, quantity: 2, delivery: false };
  }

  const sagaEvents = async (sagaId: string) => (await store.history(orderSaga.name, sagaId, { limit: 1000 })).events;
  const lastCommand = async (sagaId: string) => (await sagaEvents(sagaId)).filter((e) => e.eventType.endsWith('Requested')).at(-1)!;
  const participantOf = (command: StoredEvent) => participants[command.eventData.participantType as keyof typeof participants];
  /** The participant's events that answer `command`. */
  const repliesTo = async (command: StoredEvent) =>
    (await store.history(String(command.eventData.participantType), String(command.eventData.participantId), { limit: 1000 })).events.filter(
      (e) => e.metadata[SAGA_METADATA_KEYS.commandId] === command.eventData.commandId,
    );

  async function deliver(runner: EventRunner, event: StoredEvent): Promise<void> {
    const outcome = await runner.dispatch(event);
    if (outcome.kind === 'failed') throw outcome.error;
    expect(outcome.kind).toBe('handled');
  }

  /** Delivers the pending command to its participant and the replies to the orchestrator, once each. */
  async function step(sagaId: string): Promise<StoredEvent[]> {
    const command = await lastCommand(sagaId);
    await deliver(participantOf(command), command);
    const replies = await repliesTo(command);
    for (const reply of replies) await deliver(orchestrator, reply);
    return replies;
  }

  it('a command delivered again, also concurrently, is applied once', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    const command = await lastCommand(sagaId);
    await Promise.all([deliver(participants.SagaCustomer, command), deliver(participants.SagaCustomer, command), deliver(participants.SagaCustomer, command)]);
    await deliver(participants.SagaCustomer, command);
    const history = (await store.history('SagaCustomer', data.customerId)).events;
    expect(history.map((e) => e.eventType)).toEqual(['CustomerOpened', 'CreditReserved']);
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({ [data.orderId]: 50 });
  });

  it('a command that failed once stays failed when delivered again after the cause went away', async () => {
    const data = await parties({ stock: 0 });
    const { sagaId } = await orders.start(data);
    await step(sagaId); // credit reserved
    const reserveStock = await lastCommand(sagaId);
    await deliver(participants.SagaWarehouse, reserveStock);
    await warehouses.update(data.warehouseId, new AddStock(10));
    await deliver(participants.SagaWarehouse, reserveStock);
    const history = (await store.history('SagaWarehouse', data.warehouseId)).events;
    expect(history.map((e) => e.eventType)).toEqual(['StockAdded', 'SagaCommandFailed', 'StockAdded']);
    expect(history[1].triggeringEventToken).toBe(reserveStock.eventData.commandId);
    expect((await warehouses.find(data.warehouseId)).entity).toMatchObject({ stock: 10, reservations: {} });
  });

  it('a reply delivered twice, also concurrently, is recorded once', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    const command = await lastCommand(sagaId);
    await deliver(participants.SagaCustomer, command);
    const [reply] = await repliesTo(command);
    const before = await orders.find(sagaId);
    await Promise.all([deliver(orchestrator, reply), deliver(orchestrator, reply), deliver(orchestrator, reply)]);
    await deliver(orchestrator, reply);
    const after = await orders.find(sagaId);
    expect(after.version).toBe(before.version + 2); // SagaStepSucceeded + SagaStepRequested, once
    expect((await sagaEvents(sagaId)).slice(before.version).map((e) => e.eventType)).toEqual(['SagaStepSucceeded', 'SagaStepRequested']);
    expect((await sagaEvents(sagaId))[before.version].triggeringEventToken).toBe(reply.eventId);
  });

  it('replies delivered late and out of order change nothing once the saga moved past them', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    const replies = [...(await step(sagaId)), ...(await step(sagaId))];
    const ended = await orders.find(sagaId);
    expect(ended.status).toBe('completed');
    for (const reply of [...replies].reverse()) await deliver(orchestrator, reply);
    // The first reply delivered again while the second step is pending would be stale too; here all are.
    expect(await orders.find(sagaId)).toEqual(ended);
  });

  it("a reply to the first step delivered while the second step waits changes nothing", async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    const [first] = await step(sagaId);
    const waiting = await orders.find(sagaId);
    expect(waiting.pending?.step).toBe('reserveStock');
    await deliver(orchestrator, first);
    expect(await orders.find(sagaId)).toEqual(waiting);
  });

  it('a compensation that arrives before its action leaves a tombstone; the late action is refused, the compensation answered once', async () => {
    const data = await parties();
    const { sagaId } = await orders.start(data);
    const action = await lastCommand(sagaId);
    // What a deadline (or a reordering source) produces: the step compensated before its action was applied.
    const saga = await orders.find(sagaId);
    const { eventType, eventData, schemaVersion } = serializeEvent(
      new SagaCompensationRequested('reserveCredit', randomUUID(), String(action.eventData.commandId), 1, 'SagaCustomer', data.customerId, 'ReleaseCredit', { orderId: data.orderId }),
    );
    await store.append({ entityType: orderSaga.name, entityId: sagaId, expectedVersion: saga.version, events: [{ eventType, eventData, metadata: { schemaVersion } }] });
    const compensation = await lastCommand(sagaId);
    await deliver(participants.SagaCustomer, compensation);
    await deliver(participants.SagaCustomer, action);
    await deliver(participants.SagaCustomer, compensation);
    const history = (await store.history('SagaCustomer', data.customerId)).events;
    expect(history.map((e) => e.eventType)).toEqual(['CustomerOpened', 'SagaActionCancelled']);
    expect(history[1]).toMatchObject({
      triggeringEventToken: action.eventData.commandId,
      metadata: { [SAGA_METADATA_KEYS.commandId]: compensation.eventData.commandId },
    });
    expect((await customers.find(data.customerId)).entity.reservations).toEqual({});
    // The tombstone is the compensation's answer.
    await deliver(orchestrator, history[1]);
    expect((await sagaEvents(sagaId)).map((e) => e.eventType).slice(-2)).toEqual(['SagaCompensationDone', 'SagaRolledBack']);
  });

  it('a compensation delivered again after it was applied is applied once', async () => {
    const data = await parties({ stock: 0 });
    const { sagaId } = await orders.start(data);
    await step(sagaId); // credit reserved
    await step(sagaId); // stock refused: the saga compensates the credit
    const compensation = await lastCommand(sagaId);
    expect(compensation.eventType).toBe('SagaCompensationRequested');
    await Promise.all([deliver(participants.SagaCustomer, compensation), deliver(participants.SagaCustomer, compensation)]);
    await deliver(participants.SagaCustomer, compensation);
    expect((await store.history('SagaCustomer', data.customerId)).events.map((e) => e.eventType)).toEqual(['CustomerOpened', 'CreditReserved', 'CreditReleased']);
  });

  it("ignores participants' events that answer no saga, and commands for other participants", async () => {
    const data = await parties();
    const opened = (await store.history('SagaCustomer', data.customerId)).events[0];
    expect(await orchestrator.dispatch(opened)).toEqual({ kind: 'skipped' });
    const { sagaId } = await orders.start(data);
    expect(await participants.SagaWarehouse.dispatch(await lastCommand(sagaId))).toEqual({ kind: 'skipped' });
  });
});
