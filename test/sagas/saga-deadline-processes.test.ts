import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pino from 'pino';
import { AggregateRepository, PostgresEventStore, SubscriptionManager, feedSource, memoryCursorStore, memoryDeadLetters, sagaOrchestrator, sagaParticipant, type SubscriberRuntime } from '../../client';
import { sleep } from '../../src/backoff';
import { spawnTs, type Child } from '../server/child-process';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, courierTimedOutTimeline, timedOrderSaga, type OrderData } from './order-saga-domain';
import { answersByCommand } from './saga-command-answers';
import { sagaEnded } from './saga-run';

const quiet = pino({ level: 'silent' });
const fast = { backoff: { baseMs: 10, maxMs: 100 } };
const SAGAS = 5;
/** Long enough to see every saga at its timed step and kill the orchestrator before the first falls due, on a loaded machine. */
const COURIER_DEADLINE_MS = 4000;

describe('a saga step deadline that falls due while the orchestrator is down, with the orchestrators in processes of their own', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  /** The deadline index's schema, as the orchestrator processes name it. */
  let deadlineSchema: string;
  const managers: SubscriptionManager[] = [];
  const children: Child[] = [];

  beforeAll(async () => {
    db = testDatabase('sagadlproc');
    deadlineSchema = `${db.schema}_deadlines`.toLowerCase();
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    await store?.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${deadlineSchema}" CASCADE`);
    await db.drop();
  });

  jest.setTimeout(240_000);

  /** The orchestrator of timedOrderSaga with its deadline scheduler (index schema `<schema>_deadlines`, shared), reading the feed from its saved cursor. */
  async function orchestratorProcess(): Promise<Child> {
    const child = spawnTs(resolve(__dirname, 'saga-orchestrator-process.ts'), [], {
      env: { ...process.env, DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema, SAGA_SOURCE: 'feed', SAGA_TIMED: '1', LOG_LEVEL: 'warn' },
    });
    children.push(child);
    await child.waitForLine(/^orchestrator ready$/, 120_000);
    return child;
  }

  /** Participants in this process, reading the feed from its start. */
  async function participants(...subscribers: SubscriberRuntime[]): Promise<void> {
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 }), deadLetters: memoryDeadLetters(), subscribers, logger: quiet });
    managers.push(manager);
    await manager.start();
  }

  async function sagaEvents(eventType: string): Promise<Array<{ sagaId: string; data: Record<string, unknown> }>> {
    const { rows } = await db.pool.query(`SELECT entity_id, event_data FROM "${db.schema}".events WHERE entity_type = $1 AND event_type = $2 ORDER BY position`, [timedOrderSaga.name, eventType]);
    return rows.map((row) => ({ sagaId: row.entity_id, data: row.event_data }));
  }

  async function indexedDeadlines(): Promise<number> {
    const { rows } = await db.pool.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`"${deadlineSchema}".deadlines`]);
    if (!rows[0].exists) return 0;
    const { rows: counted } = await db.pool.query(`SELECT count(*)::int AS n FROM "${deadlineSchema}".deadlines`);
    return counted[0].n;
  }

  async function timeline(sagaId: string): Promise<string[]> {
    const { events } = await store.history(timedOrderSaga.name, sagaId, { limit: 1000 });
    return events.map((e) => (e.eventData.step ? `${e.eventType}(${String(e.eventData.step)})` : e.eventType));
  }

  it(`${SAGAS} sagas at a timed step: the orchestrator is SIGKILLed, the deadlines fall due, two orchestrators start; each deadline fires once and each saga rolls back once`, async () => {
    const options = { sagas: [timedOrderSaga], logger: quiet, ...fast };
    // The customer and the warehouse answer; the courier does not run, so the timed step gets no answer.
    await participants(sagaParticipant(Customer, store, options), sagaParticipant(Warehouse, store, options));
    const first = await orchestratorProcess();

    // Only for start and find: no manager here drives a saga.
    const orders = sagaOrchestrator(timedOrderSaga, store, { logger: quiet });
    const customers = new AggregateRepository(Customer, store);
    const warehouses = new AggregateRepository(Warehouse, store);
    const couriers = new AggregateRepository(Courier, store);
    const plan: OrderData[] = await Promise.all(
      Array.from({ length: SAGAS }, async () => ({
        orderId: randomUUID(),
        customerId: (await customers.save(new OpenCustomer(100))).entityId,
        warehouseId: (await warehouses.save(new AddStock(5))).entityId,
        courierId: (await couriers.save(new OpenCourier(true))).entityId,
        amount: 50,
        quantity: 2,
        delivery: true,
        courierDeadlineMs: COURIER_DEADLINE_MS,
      })),
    );
    const sagaIds = (await Promise.all(plan.map((data) => orders.start(data)))).map((begun) => begun.sagaId);

    // 1. Every saga reaches the courier's step: its DeadlineScheduled is written (and indexed). Then the orchestrator dies.
    await eventually(async () => (await sagaEvents('DeadlineScheduled')).length === SAGAS, `${SAGAS} DeadlineScheduled`, 90_000);
    await eventually(async () => (await indexedDeadlines()) === SAGAS, `${SAGAS} deadlines in the index`, 90_000);
    first.process.kill('SIGKILL');
    await first.exited();
    const killedAt = Date.now();
    const scheduled = await sagaEvents('DeadlineScheduled');
    expect(scheduled.map((s) => s.sagaId).sort()).toEqual([...sagaIds].sort());
    const dueAts = scheduled.map((s) => Date.parse(String(s.data.dueAt)));
    expect(killedAt).toBeLessThan(Math.min(...dueAts)); // killed before any fell due
    expect(await sagaEvents('DeadlineFired')).toEqual([]);

    // 2. Every deadline falls due while no orchestrator (and no scheduler) runs.
    await sleep(Math.max(...dueAts) - Date.now() + 200);
    expect(await sagaEvents('DeadlineFired')).toEqual([]);
    for (const sagaId of sagaIds) expect(await orders.find(sagaId)).toMatchObject({ status: 'running', pending: { step: 'scheduleDelivery' } });

    // 3. Two orchestrators start, each with its deadline scheduler on the shared index, as two deployments.
    // They are lined up: this test holds the due deadlines' index rows (FOR UPDATE; the schedulers pass
    // over locked rows) until both run, so both schedulers find them due at once and both orchestrators
    // read each DeadlineFired. Without this, the first process up fires them all before the second starts.
    const gate = await db.pool.connect();
    try {
      await gate.query('BEGIN');
      const { rows: held } = await gate.query(`SELECT deadline_id FROM "${deadlineSchema}".deadlines FOR UPDATE`);
      expect(held).toHaveLength(SAGAS);
      await Promise.all([orchestratorProcess(), orchestratorProcess()]);
      await gate.query('COMMIT');
      gate.release();
    } catch (error) {
      gate.release(true); // its transaction ends with its connection
      throw error;
    }

    // 4. The missed deadlines fire: each saga fails its courier step and sends the courier its compensation.
    await eventually(async () => (await sagaEvents('SagaCompensationRequested')).filter((e) => e.data.step === 'scheduleDelivery').length >= SAGAS, 'every saga compensating its courier step', 90_000);
    // The courier's service comes back: it applies the late action (a success), then its compensation.
    await participants(sagaParticipant(Courier, store, options));
    for (const sagaId of sagaIds) {
      expect(await sagaEnded(orders, sagaId, 90_000)).toMatchObject({
        status: 'rolledBack',
        failure: { step: 'scheduleDelivery', reason: expect.stringContaining('did not answer step') },
        doneSteps: [],
      });
    }
    await sleep(1500); // both schedulers (polling every 200 ms) and both orchestrators had many more turns

    for (const [i, sagaId] of sagaIds.entries()) {
      // One DeadlineFired, one failure, each compensation requested once, in reverse order.
      expect(await timeline(sagaId)).toEqual(courierTimedOutTimeline);
      // Each command applied once: the participants' events under each command's id.
      expect(await answersByCommand(db, store, timedOrderSaga, sagaId)).toEqual([
        { step: 'reserveCredit', kind: 'action', replies: ['CreditReserved'] },
        { step: 'reserveStock', kind: 'action', replies: ['StockReserved'] },
        { step: 'scheduleDelivery', kind: 'action', replies: ['CourierNoted', 'DeliveryScheduled'] },
        { step: 'scheduleDelivery', kind: 'compensation', replies: ['DeliveryCancelled'] },
        { step: 'reserveStock', kind: 'compensation', replies: ['StockReleased'] },
        { step: 'reserveCredit', kind: 'compensation', replies: ['CreditReleased'] },
      ]);
      // Everything released.
      expect((await customers.find(plan[i].customerId)).entity.reservations).toEqual({});
      expect((await warehouses.find(plan[i].warehouseId)).entity).toMatchObject({ stock: 5, reservations: {} });
      expect((await couriers.find(plan[i].courierId)).entity.deliveries).toEqual([]);
    }
    // The shared index has each deadline fired and settled, by one scheduler or the other.
    const { rows } = await db.pool.query(`SELECT status, settled_at IS NOT NULL AS settled, count(*)::int AS n FROM "${deadlineSchema}".deadlines GROUP BY 1, 2`);
    expect(rows).toEqual([{ status: 'fired', settled: true, n: SAGAS }]);
    // No orchestrator dead-lettered anything.
    const { rows: deadLetters } = await db.pool.query(`SELECT subscriber_id, error FROM "${db.schema}".subscriber_dead_letters`);
    expect(deadLetters).toEqual([]);
  });
});
