import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  AggregateRepository,
  PostgresEventStore,
  SubscriptionManager,
  defineSaga,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  sagaCreatedEntityId,
  sagaOrchestrator,
  sagaParticipant,
  type SagaOrchestrator,
} from '../../client';
import { sagaFixture } from '../../client/testing';
import { testDatabase, type TestDatabase } from '../support/database';
import {
  AddStock,
  CancelShipment,
  CreateShipment,
  CreditReleased,
  CreditReserved,
  Customer,
  OpenCustomer,
  ReleaseCredit,
  ReserveCredit,
  ReserveStock,
  Shipment,
  ShipmentCancelled,
  ShipmentCreated,
  Warehouse,
  shippedOrderSaga,
  type OrderData,
} from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };

describe('a saga step whose command creates the participant’s entity', () => {
  it('names the entity by the saga’s id and the step, in the action and in its compensation (fixture)', () => {
    const data: OrderData = { orderId: 'o-1', customerId: 'c-1', warehouseId: 'w-1', courierId: 'k-1', amount: 50, quantity: 2, delivery: false };
    const shipmentId = sagaCreatedEntityId('saga-1', 'createShipment');
    expect(shipmentId).toBe(sagaCreatedEntityId('saga-1', 'createShipment'));
    expect(shipmentId).not.toBe(sagaCreatedEntityId('saga-2', 'createShipment'));
    sagaFixture(shippedOrderSaga)
      .start(data, { sagaId: 'saga-1' })
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Shipment, shipmentId, new CreateShipment('o-1', 2))
      .replyWith(new ShipmentCreated('o-1', 2))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .refuseWith('out of stock')
      .expectCompensation(Shipment, shipmentId, new CancelShipment('o-1'))
      .replyWith(new ShipmentCancelled('o-1'))
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .replyWith(new CreditReleased('o-1', 50))
      .expectRolledBack('reserveStock');
  });

  it('a create step needs an entityId or creates: true', () => {
    expect(() =>
      defineSaga<OrderData>('NoIdSaga')
        .step('createShipment')
        .invokeParticipant(Shipment, { command: (d) => new CreateShipment(d.orderId, d.quantity) })
        .onSuccess(ShipmentCreated)
        .build(),
    ).toThrow(/needs entityId: \(data\) => string, unless the command creates the entity/);
  });

  describe('on PostgreSQL, with every command delivered twice (two participant services for the shipments)', () => {
    let db: TestDatabase;
    let store: PostgresEventStore;
    let orders: SagaOrchestrator<OrderData>;
    const managers: SubscriptionManager[] = [];

    async function run(subscribers: ConstructorParameters<typeof SubscriptionManager>[0]['subscribers']): Promise<void> {
      const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 500 }), deadLetters: memoryDeadLetters(), subscribers, logger: quiet });
      managers.push(manager);
      await manager.start();
    }

    beforeAll(async () => {
      db = testDatabase('sagacreate');
      store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
      orders = sagaOrchestrator(shippedOrderSaga, store, { logger: quiet, ...fast });
      const participant = { sagas: [shippedOrderSaga], logger: quiet, ...fast };
      await run([orders, sagaParticipant(Customer, store, participant), sagaParticipant(Warehouse, store, participant)]);
      // Two services take the same shipment commands (their own subscriber ids): each create and cancel reaches both.
      await run([sagaParticipant(Shipment, store, { ...participant, subscriberId: 'shipments-a' })]);
      await run([sagaParticipant(Shipment, store, { ...participant, subscriberId: 'shipments-b' })]);
    });

    afterAll(async () => {
      for (const manager of managers) await manager.stop();
      await store.close();
      await db.drop();
    });

    jest.setTimeout(60_000);

    async function order(stock: number): Promise<OrderData> {
      const customerId = (await new AggregateRepository(Customer, store).save(new OpenCustomer(100))).entityId;
      const warehouseId = (await new AggregateRepository(Warehouse, store).save(new AddStock(stock))).entityId;
      return { orderId: randomUUID(), customerId, warehouseId, courierId: 'none', amount: 50, quantity: 2, delivery: false };
    }

    const shipmentEvents = async (sagaId: string) => (await store.history('SagaShipment', sagaCreatedEntityId(sagaId, 'createShipment'))).events.map((e) => e.eventType);

    it('creates the shipment once; a rolled-back saga cancels it once', async () => {
      const [done, undone] = await Promise.all([orders.start(await order(5)), orders.start(await order(0))]);
      expect(await sagaEnded(orders, done.sagaId)).toMatchObject({ status: 'completed' });
      expect(await sagaEnded(orders, undone.sagaId)).toMatchObject({ status: 'rolledBack', failure: { step: 'reserveStock' } });
      // Both services have had every command by now: the events of the later saga's steps came after them in the feed.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await shipmentEvents(done.sagaId)).toEqual(['ShipmentCreated']);
      expect(await shipmentEvents(undone.sagaId)).toEqual(['ShipmentCreated', 'ShipmentCancelled']);
      const { entity } = await new AggregateRepository(Shipment, store).find(sagaCreatedEntityId(done.sagaId, 'createShipment'));
      expect(entity.cancelled).toBe(false);
    });

    it('an entity of that id made by something else fails the step, and the saga rolls back', async () => {
      const sagaId = randomUUID();
      const data = await order(5);
      await new AggregateRepository(Shipment, store).save(new CreateShipment('another order', 1), { entityId: sagaCreatedEntityId(sagaId, 'createShipment') });
      await orders.start(data, { sagaId });
      expect(await sagaEnded(orders, sagaId)).toMatchObject({ status: 'rolledBack', failure: { step: 'createShipment', reason: expect.stringContaining('exists already, and not by this command') } });
      expect(await shipmentEvents(sagaId)).toEqual(['ShipmentCreated', 'SagaCommandFailed']);
    });
  });
});
