/**
 * Concurrent order sagas while their orchestrator and their participants, each a child process of
 * its own, are SIGKILLed at random points and restarted (kill i hits the orchestrator, the
 * participants, or both, in turn). Shared by saga-crash.test.ts (CI size) and saga-crash-soak.ts
 * (`npm run soak:sagas`). It measures; the callers judge (`violations` lists every broken promise by name).
 */
import { resolve } from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { AggregateRepository, PostgresEventStore, SAGA_METADATA_KEYS, sagaOrchestrator, type SagaState } from '../../client';
import { sleep } from '../../src/backoff';
import { spawnTs, type Child } from '../server/child-process';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, type OrderData } from './order-saga-domain';

const ENDED = new Set(['completed', 'rolledBack', 'failed']);
/** Sagas per customer and per warehouse: enough to contend for one entity's credit and stock. */
const SAGAS_PER_PARTY = 10;
/** Each warehouse's stock: about 6 orders' worth (quantities 1 to 3), fewer than its sagas want. */
const STOCK = 12;

/** The saga processes, each a child of its own. */
const PROCESSES = {
  orchestrator: { file: 'saga-orchestrator-process.ts', ready: /^orchestrator ready$/ },
  participants: { file: 'saga-participant-process.ts', ready: /^participants ready$/ },
} as const;
type SagaProcess = keyof typeof PROCESSES;
/** Which processes kill i hits: KILL_TARGETS[i % 3]. */
const KILL_TARGETS: ReadonlyArray<readonly SagaProcess[]> = [['orchestrator'], ['participants'], ['orchestrator', 'participants']];

export interface SagaCrashOptions {
  connectionString: string;
  schema: string;
  sagas: number;
  kills: number;
  /** How long the last processes have to end every saga. */
  settleMs: number;
  log?: (line: string) => void;
}

export interface SagaCrashOutcome {
  sagas: number;
  completed: number;
  rolledBack: number;
  /** Rolled back, by the step that failed. */
  rolledBackAt: Record<string, number>;
  /** Per kill: which processes it hit, how many saga decisions had been appended since the wave began, how many sagas were still running. */
  kills: Array<{ killed: SagaProcess[]; decisionsBeforeKill: number; sagasRunningAtKill: number }>;
  seconds: number;
  /** Every broken promise, named: empty when all held. */
  violations: string[];
}

export async function sagasUnderProcessCrashes(options: SagaCrashOptions): Promise<SagaCrashOutcome> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const quiet = pino({ level: 'silent' });
  const store = await PostgresEventStore.connect({ connectionString: options.connectionString, schema: options.schema, poolSize: 10 });
  const pool = new Pool({ connectionString: options.connectionString, max: 2 });
  // Only for start and find: this process never drives a saga (it is not in any manager).
  const orders = sagaOrchestrator(orderSaga, store, { logger: quiet });
  const running = new Map<SagaProcess, Child>();
  const spawn = async (name: SagaProcess) => {
    const child = spawnTs(resolve(__dirname, PROCESSES[name].file), [], {
      env: { ...process.env, DATABASE_URL: options.connectionString, EVENTUATE_SCHEMA: options.schema, SAGA_SOURCE: 'feed', LOG_LEVEL: 'warn' },
    });
    await child.waitForLine(PROCESSES[name].ready, 120_000);
    running.set(name, child);
  };
  try {
    const plan = await orderPlan(store, options.sagas);
    const sagaIds: string[] = [];
    const kills: SagaCrashOutcome['kills'] = [];
    const lives = options.kills + 1;
    for (let life = 0; life < lives; life++) {
      // Each wave is started while the processes just killed (all, at first) are down, so each
      // restarted one also has commands or replies it never saw to pick up from its saved cursor.
      const wave = plan.slice(Math.floor((life * plan.length) / lives), Math.floor(((life + 1) * plan.length) / lives));
      for (const begun of await Promise.all(wave.map((data) => orders.start(data)))) sagaIds.push(begun.sagaId);
      const decisionsBefore = await sagaDecisions(pool, options.schema);
      await Promise.all((Object.keys(PROCESSES) as SagaProcess[]).filter((name) => !running.has(name)).map(spawn));
      log(`life ${life + 1} of ${lives}: orchestrator and participants running; ${sagaIds.length} sagas started`);
      if (life === lives - 1) break;
      // A random point in this wave's work: after 1 to (3 x wave) of its decisions, whatever the machine's speed.
      const target = 1 + Math.floor(Math.random() * wave.length * 3);
      const deadline = Date.now() + 120_000;
      let decisions = 0;
      while ((decisions = (await sagaDecisions(pool, options.schema)) - decisionsBefore) < target && Date.now() < deadline) await sleep(5);
      const killed = [...KILL_TARGETS[life % KILL_TARGETS.length]];
      await Promise.all(
        killed.map(async (name) => {
          const child = running.get(name)!;
          running.delete(name);
          child.process.kill('SIGKILL');
          await child.exited();
        }),
      );
      const unended = (await Promise.all(sagaIds.map((id) => orders.find(id)))).filter((s) => !ENDED.has(s.status)).length;
      kills.push({ killed, decisionsBeforeKill: decisions, sagasRunningAtKill: unended });
      log(`SIGKILLed ${killed.join(' and ')} after ${decisions} decisions (aimed at ${target}); ${unended} sagas running`);
    }

    const states = await allEnded(orders, sagaIds, options.settleMs);
    await Promise.all([...running.values()].map((child) => child.stop('SIGTERM')));
    running.clear();
    const violations = [
      ...stuckSagas(states),
      ...(await invariantViolations(store, plan, states)),
      ...(await commandsAppliedTwice(pool, options.schema)),
      ...(await deadLetterViolations(pool, options.schema)),
    ];
    const rolledBack = states.filter((s) => s.status === 'rolledBack');
    return {
      sagas: states.length,
      completed: states.filter((s) => s.status === 'completed').length,
      rolledBack: rolledBack.length,
      rolledBackAt: rolledBack.reduce<Record<string, number>>((at, s) => ({ ...at, [s.failure!.step]: (at[s.failure!.step] ?? 0) + 1 }), {}),
      kills,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
      violations,
    };
  } finally {
    await Promise.all([...running.values()].map((child) => child.stop('SIGKILL')));
    await pool.end();
    await store.close();
  }
}

/**
 * One saga per order, on shared customers and warehouses (SAGAS_PER_PARTY each) whose credit and
 * stock run out, so some fail at their first or second step by contention; every fifth order goes to
 * a courier that refuses (two compensations); every seventh is picked up (no delivery step).
 */
async function orderPlan(store: PostgresEventStore, sagas: number): Promise<OrderData[]> {
  const customers = new AggregateRepository(Customer, store);
  const warehouses = new AggregateRepository(Warehouse, store);
  const couriers = new AggregateRepository(Courier, store);
  const parties = Math.ceil(sagas / SAGAS_PER_PARTY);
  const customerIds = await Promise.all(Array.from({ length: parties }, async () => (await customers.save(new OpenCustomer(7 * 20))).entityId));
  const warehouseIds = await Promise.all(Array.from({ length: parties }, async () => (await warehouses.save(new AddStock(STOCK))).entityId));
  const accepting = (await couriers.save(new OpenCourier(true))).entityId;
  const refusing = (await couriers.save(new OpenCourier(false))).entityId;
  return Array.from({ length: sagas }, (_, i) => ({
    orderId: `order-${i}`,
    customerId: customerIds[i % parties],
    warehouseId: warehouseIds[(i + 1) % parties],
    courierId: i % 5 === 4 ? refusing : accepting,
    amount: 10 + (i % 3) * 10, // 10, 20, 30: a customer's credit (140) is about 7 orders' worth
    quantity: 1 + (i % 3), // 1, 2, 3
    delivery: i % 7 !== 6,
  }));
}

/** The orchestrator's appends: saga events beyond each start's own append. */
async function sagaDecisions(pool: Pool, schema: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(DISTINCT (entity_id, triggering_event))::int AS n FROM "${schema}".events WHERE entity_type = $1 AND triggering_event IS NOT NULL`, [
    orderSaga.name,
  ]);
  return rows[0].n;
}

/** Every saga's state once all ended, or once `settleMs` passed (then the stuck ones are in it as they stand). */
async function allEnded(orders: ReturnType<typeof sagaOrchestrator<OrderData>>, sagaIds: string[], settleMs: number): Promise<Array<SagaState<OrderData>>> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const states = await Promise.all(sagaIds.map((id) => orders.find(id)));
    if (states.every((s) => ENDED.has(s.status)) || Date.now() > deadline) return states;
    await sleep(200);
  }
}

function stuckSagas(states: Array<SagaState<OrderData>>): string[] {
  return states
    .filter((s) => s.status !== 'completed' && s.status !== 'rolledBack')
    .map((s) => `saga ${s.sagaId} (${s.data.orderId}) is ${s.status}` + (s.pending ? `, waiting on ${JSON.stringify(s.pending)}` : '') + (s.failure ? `, failure ${JSON.stringify(s.failure)}` : ''));
}

/** Each participant holds exactly what the completed sagas reserved, and nothing for the rolled-back ones. */
async function invariantViolations(store: PostgresEventStore, plan: OrderData[], states: Array<SagaState<OrderData>>): Promise<string[]> {
  const completed = new Set(states.filter((s) => s.status === 'completed').map((s) => s.data.orderId));
  const violations: string[] = [];
  const expectSame = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) violations.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  const completedOf = (key: 'customerId' | 'warehouseId' | 'courierId', id: string) => plan.filter((o) => o[key] === id && completed.has(o.orderId));
  const reservationsOf = (orders: OrderData[], value: (o: OrderData) => number) => Object.fromEntries(orders.map((o) => [o.orderId, value(o)]).sort());
  const sorted = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).sort());
  for (const customerId of new Set(plan.map((o) => o.customerId))) {
    const { entity } = await new AggregateRepository(Customer, store).find(customerId);
    expectSame(`customer ${customerId}'s credit reservations`, sorted(entity.reservations), reservationsOf(completedOf('customerId', customerId), (o) => o.amount));
    if (entity.available < 0) violations.push(`customer ${customerId} is over its credit limit: ${entity.available} available`);
  }
  for (const warehouseId of new Set(plan.map((o) => o.warehouseId))) {
    const { entity } = await new AggregateRepository(Warehouse, store).find(warehouseId);
    const orders = completedOf('warehouseId', warehouseId);
    expectSame(`warehouse ${warehouseId}'s stock reservations`, sorted(entity.reservations), reservationsOf(orders, (o) => o.quantity));
    expectSame(`warehouse ${warehouseId}'s stock`, entity.stock, STOCK - orders.reduce((sum, o) => sum + o.quantity, 0));
  }
  for (const courierId of new Set(plan.map((o) => o.courierId))) {
    const { entity } = await new AggregateRepository(Courier, store).find(courierId);
    expectSame(`courier ${courierId}'s deliveries`, [...entity.deliveries].sort(), completedOf('courierId', courierId).filter((o) => o.delivery).map((o) => o.orderId).sort());
  }
  return violations;
}

/**
 * A command applied twice shows as a participant writing the same event type twice for one saga
 * (whether the command was delivered twice or the orchestrator sent it again under a new id); a saga
 * that asked twice shows as two requests of one step.
 */
async function commandsAppliedTwice(pool: Pool, schema: string): Promise<string[]> {
  const participantTypes = orderSaga.participantTypes;
  const { rows: replies } = await pool.query(
    `SELECT entity_type, metadata->>$2 AS saga_id, event_type, count(*)::int AS n FROM "${schema}".events
      WHERE entity_type = ANY($1) AND metadata ? $2 GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    [participantTypes, SAGA_METADATA_KEYS.sagaId],
  );
  const { rows: requests } = await pool.query(
    `SELECT entity_id, event_type, event_data->>'step' AS step, count(*)::int AS n FROM "${schema}".events
      WHERE entity_type = $1 AND event_type IN ('SagaStepRequested', 'SagaCompensationRequested') GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    [orderSaga.name],
  );
  return [
    ...replies.map((r) => `${r.entity_type} wrote ${r.event_type} ${r.n} times for saga ${r.saga_id}`),
    ...requests.map((r) => `saga ${r.entity_id} appended ${r.event_type} for step ${r.step} ${r.n} times`),
  ];
}

/** A dead-lettered reply or command would leave a saga waiting: name any, of the orchestrator or the participants. */
async function deadLetterViolations(pool: Pool, schema: string): Promise<string[]> {
  const { rows: table } = await pool.query(`SELECT to_regclass($1) AS t`, [`"${schema}".subscriber_dead_letters`]);
  if (table[0].t === null) return [];
  const { rows } = await pool.query(`SELECT subscriber_id, id, error FROM "${schema}".subscriber_dead_letters`);
  return rows.map((row) => `${row.subscriber_id} dead-lettered ${row.id}: ${row.error}`);
}
