/**
 * What a growing history costs: the append rate and the load of cold entities with 0, 1 million and
 * 10 million events already stored, as ratios to the empty store's figures of the same run, for event
 * ids of each UUID version (v4: random, every append lands on a random page of the primary key's
 * index; v7: time-ordered, appends land on its rightmost pages).
 *
 * Per id version, a store of its own grows level by level. The bulk history goes in by SQL, one
 * event for every one of BENCH_SCALE_ENTITIES entities per round (random-looking ids), followed by
 * VACUUM and CHECKPOINT so that its WAL and dead rows do not weigh on what is measured. At each level:
 *   appends: BENCH_SECONDS of 1-event appends by 16 concurrent writers (PostgresEventStore, in
 *     process) to entities drawn at random from the whole set (at level 0, from 10,000 made for it),
 *     in rounds interleaved with bare single-row inserts into a small table of their own: the ratio
 *     of the two cancels the drift of this shared machine, and is what the levels compare;
 *   cold loads: the p50 of loading 200 entities of 10 events each, written before any history and
 *     never loaded before, so their pages are not in PostgreSQL's buffers (the OS cache may hold them).
 * Run: npm run bench -- scale   (BENCH_SCALE_LEVELS=0,1000000,10000000 BENCH_SCALE_IDS=v4,v7
 * BENCH_SCALE_ENTITIES=1000000 BENCH_SECONDS=10 BENCH_SCALE_WARMUP=60). The full size takes about half an hour here and
 * some 6 GB of disk per id version.
 */
import type { Pool } from 'pg';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { benchDatabase, benchPool, percentile, report, runBenchmark, runFor } from './support';

const LEVELS = (process.env.BENCH_SCALE_LEVELS ?? '0,1000000,10000000').split(',').map(Number);
const ID_VERSIONS = (process.env.BENCH_SCALE_IDS ?? 'v4,v7').split(',') as Array<'v4' | 'v7'>;
const ENTITIES = Number(process.env.BENCH_SCALE_ENTITIES ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/**
 * Appends before each level's measurement, not measured. Right after a CHECKPOINT every page an
 * append touches is written whole into the WAL the first time (full-page writes); with a million
 * entities nearly every append touches pages not yet written since, so the first seconds measure the
 * checkpoint, not the history. 0 measures right after the checkpoint.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_SCALE_WARMUP ?? 60);
const WRITERS = 16;
const ROUNDS = 4;
const EMPTY_STORE_ENTITIES = 10_000;
const PROBES_PER_LEVEL = 200;
const PROBE_EVENTS = 10;

const newId = { v4: uuidv4, v7: uuidv7 };
const sqlId = { v4: 'gen_random_uuid()', v7: 'uuidv7()' };

interface Figures {
  appendsPerSecond: number;
  /** Appends per bare insert of the yardstick, measured interleaved. */
  appendsPerInsert: number;
  coldLoadMs: number;
  /** The same entities loaded again at once. */
  hotLoadMs: number;
  /**
   * Checkpoints PostgreSQL had to start early while the appends were measured, because the WAL
   * reached max_wal_size (pg_stat_checkpointer): unlike the rates, a count the shared machine does not move.
   */
  forcedCheckpoints: number;
}

async function forcedCheckpoints(pool: Pool): Promise<number> {
  const { rows } = await pool.query('SELECT num_requested::int AS n FROM pg_stat_checkpointer');
  return rows[0].n;
}


/** Appends rounds of one event to every bench entity until the store holds `events` events of them. */
async function growTo(pool: Pool, schema: string, ids: 'v4' | 'v7', events: number, stored: number): Promise<number> {
  if (events <= stored) return stored;
  if (stored === 0) {
    await pool.query(
      `INSERT INTO ${schema}.entities (entity_type, entity_id, entity_version) SELECT 'BenchAccount', md5(g::text)::uuid::text, 0 FROM generate_series(1, $1) g`,
      [ENTITIES],
    );
  }
  const started = performance.now();
  for (; stored < events; stored += ENTITIES) {
    await pool.query(`
      INSERT INTO ${schema}.events (event_id, entity_type, entity_id, entity_version, event_type, event_data, metadata)
      SELECT ${sqlId[ids]}, entity_type, entity_id, entity_version + 1, 'Deposited',
        jsonb_build_object('amount', entity_version + 1, 'note', 'history'), '{}'
      FROM ${schema}.entities WHERE entity_type = 'BenchAccount'`);
    await pool.query(`UPDATE ${schema}.entities SET entity_version = entity_version + 1 WHERE entity_type = 'BenchAccount'`);
  }
  await pool.query(`VACUUM ANALYZE ${schema}.entities`);
  await pool.query(`VACUUM ANALYZE ${schema}.events`);
  await pool.query('CHECKPOINT');
  console.log(`  ${ids}: history grown to ${stored.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(0)} s (with VACUUM and CHECKPOINT)`);
  return stored;
}

async function measure(store: PostgresEventStore, pool: Pool, schema: string, ids: 'v4' | 'v7', level: number, probes: string[]): Promise<Figures> {
  // The writers' entities: each writer its own share, so that no two append to one entity at once.
  const { rows } =
    level === 0
      ? { rows: [] as Array<{ entity_id: string; entity_version: number }> }
      : await pool.query(`SELECT entity_id, entity_version FROM ${schema}.entities WHERE entity_type = 'BenchAccount'`);
  if (level === 0) {
    await pool.query(
      `WITH created AS (
         INSERT INTO ${schema}.entities (entity_type, entity_id, entity_version)
         SELECT 'BenchWarm', 'warm-' || g, 1 FROM generate_series(1, $1) g RETURNING entity_type, entity_id)
       INSERT INTO ${schema}.events (event_id, entity_type, entity_id, entity_version, event_type, event_data)
       SELECT ${sqlId[ids]}, entity_type, entity_id, 1, 'Opened', '{}' FROM created`,
      [EMPTY_STORE_ENTITIES],
    );
    for (let g = 1; g <= EMPTY_STORE_ENTITIES; g++) rows.push({ entity_id: `warm-${g}`, entity_version: 1 });
  }
  const entityType = level === 0 ? 'BenchWarm' : 'BenchAccount';
  const versions = new Map(rows.map((r) => [r.entity_id, r.entity_version]));
  const shares = Array.from({ length: WRITERS }, (_, w) => rows.filter((_, i) => i % WRITERS === w).map((r) => r.entity_id));
  const appendOne = async (w: number) => {
    const share = shares[w];
    const entityId = share[Math.floor(Math.random() * share.length)];
    const expectedVersion = versions.get(entityId)!;
    const written = await store.append({ entityType, entityId, expectedVersion, events: [{ eventId: newId[ids](), eventType: 'Deposited', eventData: { amount: 1, note: 'bench' } }] });
    versions.set(entityId, written.entityVersion);
  };
  // Not measured: the process warms up, and the first write of each page after the level's
  // CHECKPOINT (which logs the whole page to the WAL) is behind us; see WARMUP_SECONDS.
  await runFor(level === LEVELS[0] ? Math.max(2, WARMUP_SECONDS) : WARMUP_SECONDS, WRITERS, appendOne);
  // The yardstick, interleaved with the appends: bare single-row inserts into a table of their own,
  // which does not grow with the history. The machine is shared; its drift cancels in the ratio.
  let appends = 0;
  let inserts = 0;
  const checkpointsBefore = await forcedCheckpoints(pool);
  for (let round = 0; round < ROUNDS; round++) {
    inserts += await runFor(SECONDS / ROUNDS, WRITERS, () => pool.query(`INSERT INTO ${schema}.bench_yardstick (data) VALUES ('{"n":1}')`).then(() => undefined));
    appends += await runFor(SECONDS / ROUNDS, WRITERS, appendOne);
  }
  const checkpoints = (await forcedCheckpoints(pool)) - checkpointsBefore;
  const loads: number[] = [];
  const hotLoads: number[] = [];
  for (const entityId of probes.splice(0, PROBES_PER_LEVEL)) {
    for (const times of [loads, hotLoads]) {
      const started = performance.now();
      const loaded = await store.load('BenchProbe', entityId);
      times.push(performance.now() - started);
      if (loaded.events.length !== PROBE_EVENTS) throw new Error(`probe ${entityId} loaded ${loaded.events.length} events`);
    }
  }
  return { appendsPerSecond: appends / SECONDS, appendsPerInsert: appends / inserts, coldLoadMs: percentile(loads, 50), hotLoadMs: percentile(hotLoads, 50), forcedCheckpoints: checkpoints };
}

async function runVariant(connectionString: string, ids: 'v4' | 'v7'): Promise<Map<number, Figures>> {
  const schema = `bench_scale_${ids}_${Date.now()}`;
  const store = await PostgresEventStore.connect({ connectionString, schema, poolSize: WRITERS });
  const pool = benchPool({ connectionString }, WRITERS);
  const figures = new Map<number, Figures>();
  try {
    await pool.query(`CREATE TABLE ${schema}.bench_yardstick (id bigserial PRIMARY KEY, data jsonb)`);
    // Probes first, before any history: by the last level they are the oldest entities of the store.
    const probes: string[] = [];
    for (let i = 0; i < PROBES_PER_LEVEL * LEVELS.length; i++) {
      const events = Array.from({ length: PROBE_EVENTS }, (_, n) => ({ eventId: newId[ids](), eventType: 'Probed', eventData: { n } }));
      probes.push((await store.create({ entityType: 'BenchProbe', events })).entityId);
    }
    let stored = 0;
    for (const level of LEVELS) {
      stored = await growTo(pool, schema, ids, level, stored);
      const measured = await measure(store, pool, schema, ids, level, probes);
      figures.set(level, measured);
      const empty = figures.get(LEVELS[0])!;
      const of0 = (ratio: number) => `${ratio.toFixed(2)}x of ${LEVELS[0].toLocaleString('en')}`;
      const at = `${ids} ids, ${level.toLocaleString('en')} events stored`;
      report(`${at}: 1-event appends, ${WRITERS} writers`, measured.appendsPerSecond, 'appends/s', of0(measured.appendsPerSecond / empty.appendsPerSecond));
      report(`${at}: appends per bare insert (interleaved)`, measured.appendsPerInsert, 'x', of0(measured.appendsPerInsert / empty.appendsPerInsert));
      report(`${at}: checkpoints forced by max_wal_size while measured`, measured.forcedCheckpoints, '');
      report(`${at}: cold load of a 10-event entity, p50`, measured.coldLoadMs, 'ms', `${of0(measured.coldLoadMs / empty.coldLoadMs)}; loaded again: ${measured.hotLoadMs.toFixed(2)} ms`);
    }
  } finally {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await store.close();
  }
  return figures;
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  try {
    const results = new Map<string, Map<number, Figures>>();
    for (const ids of ID_VERSIONS) results.set(ids, await runVariant(database.connectionString, ids));
    if (results.has('v4') && results.has('v7')) {
      const top = LEVELS[LEVELS.length - 1];
      const v4 = results.get('v4')!.get(top)!;
      const v7 = results.get('v7')!.get(top)!;
      report(`v7 against v4 at ${top.toLocaleString('en')} events: appends per bare insert`, v7.appendsPerInsert / v4.appendsPerInsert, 'x');
      report(`v7 against v4 at ${top.toLocaleString('en')} events: cold load time`, v7.coldLoadMs / v4.coldLoadMs, 'x');
    }
  } finally {
    await database.stop();
  }
}

runBenchmark(main);
