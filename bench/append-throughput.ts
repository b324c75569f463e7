/**
 * Appends side by side in one run: bare PostgreSQL, PostgresEventStore in this process, and the HTTP
 * server in a process of its own, on the same database. The legs are interleaved over BENCH_ROUNDS
 * rounds (default 5) of BENCH_SECONDS each (default 5), since this machine's bare PostgreSQL rate
 * moves by 2x between quiet and busy hours: each ratio is the median of the rounds' ratios.
 * Run: npm run bench -- append   (DATABASE_URL to use your own PostgreSQL; BENCH_LEGS=store1,http1 runs
 * only those legs, e.g. under a profiler; BENCH_WRITE_CONNECTIONS=1,2,4 runs a store and a server per
 * committer count, interleaved in the same rounds). Each leg also says the CPU time spent per append
 * (or per event), read from /proc, by the server process, the embedded PostgreSQL and this process
 * (the load generator, and the in-process store or Emmett in their legs), and how many of the
 * machine's cores were busy: far steadier than the rates when other work shares the machine, and it
 * tells a leg bound by CPU (all cores busy: its rate is the cores over the sum of the parts) from one
 * bound by waiting (commits). The emmett1 leg is Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql)
 * in this process, on its own pool of 16 connections: the same appends, for comparison.
 */
import { randomUUID } from 'node:crypto';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { PostgresEventStore } from '../src';
import { benchDatabase, benchPool, CORES, cpuBudget, describeBudget, report, requestJson, runFor, startCpuMeter, startServerProcess, type BenchServer, type CpuBudget } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SINGLE_CONCURRENCY = 16;
const BATCH_CONCURRENCY = 4;
const BATCH = 100;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const deposits = (n: number) => Array.from({ length: n }, (_, i) => ({ eventType: 'Deposited', eventData: { amount: i, note: 'bench' } }));

/** An append of `events` to one entity per worker, through whichever store `append` reaches. */
type Append = (entity: { id: string; version: number }, events: ReturnType<typeof deposits>) => Promise<number>;

async function appendLeg(append: Append, create: () => Promise<{ id: string; version: number }>, concurrency: number, eventsPerAppend: number) {
  const entities = await Promise.all(Array.from({ length: concurrency }, create));
  const events = deposits(eventsPerAppend);
  const appends = await runFor(SECONDS, concurrency, async (w) => {
    entities[w].version = await append(entities[w], events);
  });
  return (appends * eventsPerAppend) / SECONDS;
}

async function post(url: string, body: unknown): Promise<any> {
  const answer = await requestJson('POST', url, body);
  if (answer.status >= 300) throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * The legs of one store and server pair, keyed by name + `suffix`. A leg with a `server` measures a
 * rate of its `unit` (appends or events a second), whose server CPU time per unit is reported too.
 */
type Legs = Record<string, { label: string; unit: string; run: () => Promise<number>; server?: BenchServer }>;

function storeLegs(store: PostgresEventStore, server: BenchServer, suffix: string, labelSuffix: string): Legs {
  const url = server.url;
  const storeCreate = async () => ({ id: (await store.create({ entityType: 'BenchAccount', events: deposits(1) })).entityId, version: 1 });
  const storeAppend: Append = async (entity, events) =>
    (await store.append({ entityType: 'BenchAccount', entityId: entity.id, expectedVersion: entity.version, events })).entityVersion;
  const httpCreate = async () => ({ id: (await post(`${url}/entity/BenchAccount`, { events: deposits(1) })).entityId, version: 1 });
  const httpAppend: Append = async (entity, events) => (await post(`${url}/entity/BenchAccount/${entity.id}`, { entityVersion: entity.version, events })).entityVersion;
  return {
    [`store1${suffix}`]: { label: `PostgresEventStore: 1-event appends, 16 concurrent${labelSuffix}`, unit: 'appends/s', run: () => appendLeg(storeAppend, storeCreate, SINGLE_CONCURRENCY, 1) },
    [`http1${suffix}`]: { label: `HTTP: 1-event appends, 16 concurrent clients${labelSuffix}`, unit: 'appends/s', run: () => appendLeg(httpAppend, httpCreate, SINGLE_CONCURRENCY, 1), server },
    [`store100${suffix}`]: { label: `PostgresEventStore: 100-event appends, 4 concurrent${labelSuffix}`, unit: 'events/s', run: () => appendLeg(storeAppend, storeCreate, BATCH_CONCURRENCY, BATCH) },
    [`http100${suffix}`]: { label: `HTTP: 100-event appends, 4 concurrent clients${labelSuffix}`, unit: 'events/s', run: () => appendLeg(httpAppend, httpCreate, BATCH_CONCURRENCY, BATCH), server },
    [`httpP50${suffix}`]: {
      label: `HTTP: 1-event append at one client, p50${labelSuffix}`,
      unit: 'ms',
      run: async () => {
        const entity = await httpCreate();
        const latencies: number[] = [];
        await runFor(SECONDS, 1, async () => {
          const start = process.hrtime.bigint();
          entity.version = await httpAppend(entity, deposits(1));
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        });
        return median(latencies);
      },
    },
  };
}

export async function appendThroughput(): Promise<void> {
  const db = await benchDatabase();
  const raw = benchPool(db, SINGLE_CONCURRENCY);
  // BENCH_WRITE_CONNECTIONS=1,2,4: a store and a server per committer count, their legs interleaved in the rounds.
  const committerCounts = process.env.BENCH_WRITE_CONNECTIONS?.split(',').map(Number) ?? [undefined];
  const pairs: Array<{ suffix: string; labelSuffix: string; store: PostgresEventStore; server: BenchServer }> = [];
  let closeEmmett = async () => undefined;
  try {
    for (const writeConnections of committerCounts) {
      const schema = `${Date.now()}_${writeConnections ?? 'default'}`;
      const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: `bench_direct_${schema}`, writeConnections });
      const server = await startServerProcess({
        DATABASE_URL: db.connectionString,
        EVENTUATE_SCHEMA: `bench_${schema}`,
        ...(writeConnections === undefined ? {} : { EVENTUATE_DB_WRITE_CONNECTIONS: String(writeConnections) }),
      }).catch(async (err) => {
        await store.close();
        throw err;
      });
      const [suffix, labelSuffix] = writeConnections === undefined ? ['', ''] : [`@${writeConnections}`, `, ${writeConnections} committers`];
      pairs.push({ suffix, labelSuffix, store, server });
    }
    const url = pairs[0].server.url;
    await raw.query('DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, data jsonb)');
    const rows = Array.from({ length: BATCH }, (_, i) => `{"n":${i}}`);

    const raw100 = {
      label: 'raw PostgreSQL: 100-row INSERT, 4 connections',
      unit: 'rows/s',
      run: async () =>
        ((await runFor(SECONDS, BATCH_CONCURRENCY, async () => void (await raw.query('INSERT INTO bench_baseline (data) SELECT unnest($1::jsonb[])', [rows])))) * BATCH) /
        SECONDS,
    };
    const legs: Legs = {
      raw1: {
        label: 'raw PostgreSQL: single-row INSERT+COMMIT, 16 connections',
        unit: 'tx/s',
        run: async () => (await runFor(SECONDS, SINGLE_CONCURRENCY, async () => void (await raw.query('INSERT INTO bench_baseline (data) VALUES ($1)', ['{"n":1}'])))) / SECONDS,
      },
    };
    // Emmett creates its tables (emt_streams, emt_messages, ...) in the public schema on its first append.
    const emmettPool = benchPool(db, SINGLE_CONCURRENCY);
    const emmett = getPostgreSQLEventStore(db.connectionString, { connectionOptions: { pool: emmettPool } });
    closeEmmett = async () => {
      await emmett.close();
      await emmettPool.end();
    };
    const emmettAppend: Append = async (entity, events) =>
      Number(
        (
          await emmett.appendToStream(
            entity.id,
            events.map((e) => ({ type: e.eventType, data: e.eventData })),
            { expectedStreamVersion: BigInt(entity.version) },
          )
        ).nextExpectedStreamVersion,
      );
    const emmettCreate = async () => {
      const id = `BenchAccount-${randomUUID()}`;
      const { nextExpectedStreamVersion } = await emmett.appendToStream(id, [{ type: 'Deposited', data: { amount: 0, note: 'bench' } }]);
      return { id, version: Number(nextExpectedStreamVersion) };
    };
    legs.emmett1 = {
      label: 'Emmett 0.42 in process: 1-event appends, 16 concurrent',
      unit: 'appends/s',
      run: () => appendLeg(emmettAppend, emmettCreate, SINGLE_CONCURRENCY, 1),
    };
    const pairLegs: Legs = Object.assign({}, ...pairs.map(({ suffix, labelSuffix, store, server }) => storeLegs(store, server, suffix, labelSuffix)));
    // Each raw leg runs next to the legs measured against it.
    for (const kind of ['store1', 'http1', 'raw100', 'store100', 'http100', 'httpP50']) {
      for (const [name, leg] of Object.entries(pairLegs)) if (name.replace(/@.*/, '') === kind) legs[name] = leg;
      if (kind === 'raw100') legs.raw100 = raw100;
    }
    const chosen = process.env.BENCH_LEGS?.split(',');
    for (const name of Object.keys(legs)) if (chosen && !chosen.includes(name)) delete legs[name];
    const figures: Record<string, number[]> = Object.fromEntries(Object.keys(legs).map((k) => [k, []]));
    /** CPU µs per unit of the leg's rate, by leg and by who spent it, and the cores the machine kept busy. */
    const budgets: Record<string, CpuBudget[]> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round} of ${ROUNDS}`);
      for (const [name, leg] of Object.entries(legs)) {
        const cpuSpent = startCpuMeter(db, leg.server);
        const value = await leg.run();
        const budget = leg.unit === 'ms' ? undefined : cpuBudget(cpuSpent(), value * SECONDS);
        figures[name].push(value);
        if (budget) (budgets[name] ??= []).push(budget);
        report(`  ${leg.label}`, value, leg.unit, budget ? `(${describeBudget(budget, leg.unit)})` : '');
      }
    }
    console.log(`\nmedians of ${ROUNDS} rounds of ${SECONDS} s per leg:`);
    for (const [name, leg] of Object.entries(legs)) report(leg.label, median(figures[name]), leg.unit, `(rounds: ${figures[name].map((v) => v.toFixed(v < 100 ? 1 : 0)).join(', ')})`);
    console.log(`\nCPU per append or event, medians (this process is the load generator, and the in-process store or Emmett in their legs; ${CORES} cores):`);
    for (const [name, rounds] of Object.entries(budgets)) {
      const medianOf = (part: keyof CpuBudget) => (rounds.every((r) => r[part] !== undefined) ? median(rounds.map((r) => r[part]!)) : undefined);
      console.log(`  ${name.padEnd(10)} ${describeBudget({ server: medianOf('server'), postgres: medianOf('postgres'), thisProcess: medianOf('thisProcess')!, busyCores: medianOf('busyCores') }, legs[name].unit)}`);
    }
    const ratio = (label: string, over: string, under: string, target: string) => {
      if (!figures[over] || !figures[under]) return;
      const perRound = figures[over].map((v, i) => v / figures[under][i]);
      console.log(`${label.padEnd(58)} ${median(perRound).toFixed(2).padStart(9)} x  (rounds: ${perRound.map((r) => r.toFixed(2)).join(', ')}; target: ${target})`);
    };
    console.log('\nratios (median of the rounds):');
    ratio('Emmett in process / raw, 1-event at 16', 'emmett1', 'raw1', '-');
    for (const { suffix, labelSuffix } of pairs) {
      ratio(`HTTP / Emmett in process, 1-event at 16${labelSuffix}`, `http1${suffix}`, 'emmett1', 'at least 2x');
      ratio(`in process / raw, 1-event at 16${labelSuffix}`, `store1${suffix}`, 'raw1', 'at least 1.5x');
      ratio(`HTTP / raw, 1-event at 16${labelSuffix}`, `http1${suffix}`, 'raw1', 'at least 1.0x');
      ratio(`in process / raw, 100-event at 4${labelSuffix}`, `store100${suffix}`, 'raw100', '-');
      ratio(`HTTP 100-event / in process 100-event, at 4${labelSuffix}`, `http100${suffix}`, `store100${suffix}`, 'at least 0.9x');
    }

    const { entityId } = await post(`${url}/entity/BenchBig`, { events: deposits(1000) });
    const loads = await runFor(SECONDS, 1, async () => {
      const { body } = await requestJson('GET', `${url}/entity/BenchBig/${entityId}?snapshot=false`);
      if (body.events.length !== 1000) throw new Error('short load');
    });
    report('\nHTTP: load a 1,000-event entity, 1 client', (SECONDS * 1000) / loads, 'ms each', `(${(loads / SECONDS).toFixed(0)}/s)`);
  } finally {
    for (const { server, store } of pairs) {
      await server.stop();
      await store.close();
    }
    await closeEmmett();
    await raw.query('DROP TABLE IF EXISTS bench_baseline').catch(() => undefined);
    await raw.end();
    await db.stop();
  }
}

if (require.main === module) {
  appendThroughput().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
