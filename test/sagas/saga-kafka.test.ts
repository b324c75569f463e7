import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { AggregateRepository, PostgresEventStore, SubscriptionManager, memoryDeadLetters, sagaOrchestrator, sagaParticipant } from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, type OrderData } from './order-saga-domain';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };

describe('orchestrated sagas through Kafka: orchestrator and participants on the relay’s topics', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let relay: RunningRelay;
  const prefix = `${uniqueName('ksaga')}.`;
  const startRelayHere = () => startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
  const source = () => testKafkaSource(prefix);

  beforeAll(async () => {
    db = testDatabase('ksaga');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    relay = startRelayHere();
  });

  afterAll(async () => {
    await relay.stop();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(180_000);

  it('completes a saga and rolls back a refused one; a relay that publishes everything again changes no saga and applies no command twice', async () => {
    const orders = sagaOrchestrator(orderSaga, store, { logger: quiet, ...fast });
    const orchestration = new SubscriptionManager({ source: source(), deadLetters: memoryDeadLetters(), subscribers: [orders], logger: quiet });
    const participation = new SubscriptionManager({
      source: source(),
      deadLetters: memoryDeadLetters(),
      subscribers: [
        sagaParticipant(Customer, store, { sagas: [orderSaga], logger: quiet, ...fast }),
        sagaParticipant(Warehouse, store, { sagas: [orderSaga], logger: quiet, ...fast }),
        sagaParticipant(Courier, store, { sagas: [orderSaga], logger: quiet, ...fast }),
      ],
      logger: quiet,
    });
    const customers = new AggregateRepository(Customer, store);
    const warehouses = new AggregateRepository(Warehouse, store);
    const couriers = new AggregateRepository(Courier, store);
    const parties = async (creditLimit: number): Promise<OrderData> => ({
      orderId: randomUUID(),
      customerId: (await customers.save(new OpenCustomer(creditLimit))).entityId,
      warehouseId: (await warehouses.save(new AddStock(5))).entityId,
      courierId: (await couriers.save(new OpenCourier(true))).entityId,
      amount: 50,
      quantity: 2,
      delivery: true,
    });
    try {
      await orchestration.start();
      await participation.start();
      const accepted = await parties(100);
      const refused = await parties(10);
      const [done, undone] = await Promise.all([orders.start(accepted), orders.start(refused)]);
      expect(await sagaEnded(orders, done.sagaId, 90_000)).toMatchObject({ status: 'completed', doneSteps: ['reserveCredit', 'reserveStock', 'scheduleDelivery'] });
      expect(await sagaEnded(orders, undone.sagaId, 90_000)).toMatchObject({ status: 'rolledBack' });
      const versions = async () => ({
        sagas: [(await orders.find(done.sagaId)).version, (await orders.find(undone.sagaId)).version],
        customer: (await customers.find(accepted.customerId)).entityVersion,
        warehouse: (await warehouses.find(accepted.warehouseId)).entityVersion,
        courier: (await couriers.find(accepted.courierId)).entityVersion,
      });
      const settled = await versions();
      expect((await customers.find(accepted.customerId)).entity.reservations).toEqual({ [accepted.orderId]: 50 });

      // The relay loses its cursor: every command and reply reaches the subscribers again, at new offsets.
      await relay.stop();
      await db.pool.query(`DELETE FROM "${db.schema}".relay_cursors`);
      relay = startRelayHere();
      const marker = await parties(100);
      const later = await orders.start(marker);
      expect(await sagaEnded(orders, later.sagaId, 90_000)).toMatchObject({ status: 'completed' });
      // The republished copies came before the new saga's on each partition of a topic; another
      // partition's may lag, so they get a moment more. Passed over, they changed no entity.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await versions()).toEqual(settled);
    } finally {
      await orchestration.stop();
      await participation.stop();
    }
  });
});
