import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pino from 'pino';
import {
  AggregateRepository,
  PostgresEventStore,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  sagaOrchestrator,
  type EventSource,
} from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { spawnTs, type Child } from '../server/child-process';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, type OrderData } from './order-saga-domain';
import { answersByCommand } from './saga-command-answers';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });

describe.each(['feed', 'kafka'] as const)('orchestrated sagas with the participants in another process, through the %s', (via) => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let relay: RunningRelay | undefined;
  let participants: Child | undefined;
  let orchestration: SubscriptionManager | undefined;
  const prefix = `${uniqueName('psaga')}.`;

  const source = (): EventSource =>
    via === 'feed'
      ? feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 })
      : testKafkaSource(prefix);

  beforeAll(async () => {
    db = testDatabase('psaga');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    if (via === 'kafka') relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
  });

  afterAll(async () => {
    await orchestration?.stop();
    await participants?.stop('SIGKILL');
    await relay?.stop();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(240_000);

  it('a three-step saga completes, one refused at its third step rolls back in reverse order, and each command is applied once', async () => {
    participants = spawnTs(resolve(__dirname, 'saga-participant-process.ts'), [], {
      env: {
        ...process.env,
        DATABASE_URL: db.connectionString,
        EVENTUATE_SCHEMA: db.schema,
        SAGA_SOURCE: via,
        ...(via === 'kafka' ? { KAFKA_BROKERS: kafkaBrokers().join(','), EVENTUATE_TOPIC_PREFIX: prefix } : {}),
      },
    });
    await participants.waitForLine(/^participants ready$/, 120_000);
    const orders = sagaOrchestrator(orderSaga, store, { logger: quiet, backoff: { baseMs: 10, maxMs: 100 } });
    orchestration = new SubscriptionManager({ source: source(), deadLetters: memoryDeadLetters(), subscribers: [orders], logger: quiet });
    await orchestration.start();

    const customers = new AggregateRepository(Customer, store);
    const warehouses = new AggregateRepository(Warehouse, store);
    const couriers = new AggregateRepository(Courier, store);
    const order = async (courierAccepts: boolean): Promise<OrderData> => ({
      orderId: randomUUID(),
      customerId: (await customers.save(new OpenCustomer(100))).entityId,
      warehouseId: (await warehouses.save(new AddStock(5))).entityId,
      courierId: (await couriers.save(new OpenCourier(courierAccepts))).entityId,
      amount: 50,
      quantity: 2,
      delivery: true,
    });
    const accepted = await order(true);
    const refused = await order(false);
    const [done, undone] = await Promise.all([orders.start(accepted), orders.start(refused)]);

    expect(await sagaEnded(orders, done.sagaId, 120_000)).toMatchObject({ status: 'completed', doneSteps: ['reserveCredit', 'reserveStock', 'scheduleDelivery'] });
    expect(await sagaEnded(orders, undone.sagaId, 120_000)).toMatchObject({ status: 'rolledBack', failure: { step: 'scheduleDelivery' } });

    expect(await answersByCommand(db, store, orderSaga, done.sagaId)).toEqual([
      { step: 'reserveCredit', kind: 'action', replies: ['CreditReserved'] },
      { step: 'reserveStock', kind: 'action', replies: ['StockReserved'] },
      { step: 'scheduleDelivery', kind: 'action', replies: ['CourierNoted', 'DeliveryScheduled'] },
    ]);
    // Compensations in reverse order: the stock (step 2) before the credit (step 1).
    expect(await answersByCommand(db, store, orderSaga, undone.sagaId)).toEqual([
      { step: 'reserveCredit', kind: 'action', replies: ['CreditReserved'] },
      { step: 'reserveStock', kind: 'action', replies: ['StockReserved'] },
      { step: 'scheduleDelivery', kind: 'action', replies: ['DeliveryRefused'] },
      { step: 'reserveStock', kind: 'compensation', replies: ['StockReleased'] },
      { step: 'reserveCredit', kind: 'compensation', replies: ['CreditReleased'] },
    ]);
    // The participants' state, as the other process left it.
    expect((await customers.find(accepted.customerId)).entity.reservations).toEqual({ [accepted.orderId]: 50 });
    expect((await warehouses.find(accepted.warehouseId)).entity.stock).toBe(3);
    expect((await couriers.find(accepted.courierId)).entity.deliveries).toEqual([accepted.orderId]);
    expect((await customers.find(refused.customerId)).entity.reservations).toEqual({});
    expect((await warehouses.find(refused.warehouseId)).entity).toMatchObject({ stock: 5, reservations: {} });
  });
});
