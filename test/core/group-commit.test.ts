import { Client } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import {
  AppendResult,
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  OptimisticLockingError,
  PostgresEventStore,
  ValidationError,
  WriteOutcomeUnknownError,
} from '../../src';
import { decodeCursor } from '../../src/cursor';
import { testDatabase, TestDatabase } from '../support/database';

const events = (n: number, tag = 'e') => Array.from({ length: n }, (_, i) => ({ eventType: 'Counted', eventData: { tag, i } }));
const withIds = (n: number) => Array.from({ length: n }, (_, i) => ({ eventId: uuidv4(), eventType: 'Counted', eventData: { i } }));
const transactionOf = (result: AppendResult) => decodeCursor(result.cursor).transactionId;
const fulfilled = <T>(outcome: PromiseSettledResult<T>): T => {
  if (outcome.status === 'rejected') throw new Error(`expected success, got ${outcome.reason}`);
  return outcome.value;
};
const rejected = <T>(outcome: PromiseSettledResult<T>): unknown => {
  if (outcome.status === 'fulfilled') throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  return outcome.reason;
};

describe('PostgresEventStore group commit', () => {
  let db: TestDatabase;
  /** One committer connection: writes sent while it is busy wait, and go as one group. */
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = testDatabase('groups');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, writeConnections: 1 });
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** A transaction holding the row lock of `entityId` (of type Gate) until released. */
  async function lockEntity(entityId: string): Promise<{ release(): Promise<void> }> {
    const client = new Client({ connectionString: db.connectionString });
    await client.connect();
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM "${db.schema}".entities WHERE entity_type = 'Gate' AND entity_id = $1 FOR UPDATE`, [entityId]);
    return {
      release: async () => {
        await client.query('COMMIT');
        await client.end();
      },
    };
  }

  /** The pid of this store's write statement (text containing `marker`) waiting on a row lock. */
  async function blockedWriter(marker: string): Promise<number> {
    for (let i = 0; i < 400; i++) {
      const { rows } = await db.pool.query(
        `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%' AND query LIKE '%' || $2 || '%'`,
        [db.schema, marker],
      );
      if (rows[0]) return rows[0].pid;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no write statement (${marker}) of schema ${db.schema} waits on a lock`);
  }

  /**
   * Starts `writes` while the store's one committer connection is held by an append waiting on a
   * row lock, so they all wait and go out together once it is released.
   */
  async function burst<T>(writes: Array<() => Promise<T>>): Promise<Array<PromiseSettledResult<T>>> {
    const gate = await store.create({ entityType: 'Gate', events: events(1) });
    const lock = await lockEntity(gate.entityId);
    const held = store.append({ entityType: 'Gate', entityId: gate.entityId, expectedVersion: 1, events: events(1) });
    await blockedWriter('WITH updated AS');
    const outcomes = Promise.allSettled(writes.map((write) => write()));
    await lock.release();
    await held;
    return outcomes;
  }

  it('commits the writes that waited together in one transaction, each with its own version, cursor and contiguous events', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `together-${i}`);
    const outcomes = await burst(ids.map((entityId, i) => () => store.create({ entityType: 'Together', entityId, events: events(1 + (i % 3), entityId) })));
    const results = outcomes.map(fulfilled);
    expect(new Set(results.map(transactionOf)).size).toBe(1);
    expect(results.map((r) => r.entityVersion)).toEqual(ids.map((_, i) => 1 + (i % 3)));
    const { rows } = await db.pool.query(
      `SELECT entity_id, entity_version, position::text AS position, event_data FROM "${db.schema}".events WHERE entity_type = 'Together' ORDER BY events.position`,
    );
    // Member by member in arrival order, each member's events in version order.
    expect(rows.map((r) => `${r.entity_id}:${r.entity_version}`)).toEqual(ids.flatMap((id, i) => Array.from({ length: 1 + (i % 3) }, (_, v) => `${id}:${v + 1}`)));
    for (const [i, result] of results.entries()) {
      const own = rows.filter((r) => r.entity_id === ids[i]);
      expect(decodeCursor(result.cursor).position).toBe(BigInt(own.at(-1)!.position));
      expect(own.map((r) => r.event_data.tag)).toEqual(own.map(() => ids[i]));
    }
    const loaded = await store.load('Together', 'together-2');
    expect(loaded.events.map((e) => e.eventData)).toEqual(events(3, 'together-2').map((e) => e.eventData));
  });

  it('gives each member of a group exactly the answer it would get alone', async () => {
    const base = await Promise.all(
      ['ok', 'stale', 'token', 'retry', 'exists'].map((name) => store.create({ entityType: 'Mixed', entityId: `mixed-${name}`, events: events(2) })),
    );
    await store.append({ entityType: 'Mixed', entityId: 'mixed-token', expectedVersion: 2, events: events(1), triggeringEventToken: 'tok-1' });
    const retried = withIds(2);
    const original = await store.append({ entityType: 'Mixed', entityId: 'mixed-retry', expectedVersion: 2, events: retried });
    const outcomes = await burst<AppendResult>([
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-ok', expectedVersion: 2, events: events(2) }),
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-stale', expectedVersion: 1, events: events(1) }),
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-token', expectedVersion: 3, events: events(1), triggeringEventToken: 'tok-1' }),
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-retry', expectedVersion: 2, events: retried }),
      () => store.create({ entityType: 'Mixed', entityId: 'mixed-exists', events: events(1) }),
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-missing', expectedVersion: 1, events: events(1) }),
      () => store.create({ entityType: 'Mixed', entityId: 'mixed-new', events: events(3), snapshot: undefined }),
      () => store.append({ entityType: 'Mixed', entityId: 'mixed-exists', expectedVersion: 2, events: events(1) }),
    ]);
    const [ok, stale, token, retry, exists, missing, created, afterExists] = outcomes;
    expect(fulfilled(ok)).toMatchObject({ entityId: 'mixed-ok', entityVersion: 4 });
    expect(rejected(stale)).toBeInstanceOf(OptimisticLockingError);
    expect(rejected(stale)).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(rejected(token)).toBeInstanceOf(DuplicateTriggeringEventError);
    expect(rejected(token)).toMatchObject({ entityVersion: 3 });
    expect(fulfilled(retry)).toEqual(original);
    expect(rejected(exists)).toBeInstanceOf(EntityAlreadyExistsError);
    expect(rejected(missing)).toBeInstanceOf(EntityNotFoundError);
    expect(fulfilled(created)).toMatchObject({ entityId: 'mixed-new', entityVersion: 3 });
    // Behind the refused create of the same entity, in the next group.
    expect(fulfilled(afterExists)).toMatchObject({ entityId: 'mixed-exists', entityVersion: 3 });
    // The successes of the first group shared its transaction; the refusals stored nothing.
    expect(transactionOf(fulfilled(ok))).toBe(transactionOf(fulfilled(created)));
    const versions = await db.pool.query(
      `SELECT entity_id, max(entity_version) AS v, count(*)::int AS n FROM "${db.schema}".events WHERE entity_type = 'Mixed' GROUP BY entity_id ORDER BY entity_id`,
    );
    expect(versions.rows).toEqual([
      { entity_id: 'mixed-exists', v: 3, n: 3 },
      { entity_id: 'mixed-new', v: 3, n: 3 },
      { entity_id: 'mixed-ok', v: 4, n: 4 },
      { entity_id: 'mixed-retry', v: 4, n: 4 },
      { entity_id: 'mixed-stale', v: 2, n: 2 },
      { entity_id: 'mixed-token', v: 3, n: 3 },
    ]);
    expect(base).toHaveLength(5);
  });

  it.each([
    ['data PostgreSQL refuses (\\u0000 in jsonb)', 'nul', ValidationError],
    ['an event id another entity holds (the unique constraint)', 'taken', OptimisticLockingError],
  ])('fails only the bad member of a group whose statement fails as a whole: %s', async (_, bad, refusal) => {
    const type = `Bad_${bad}`;
    const holder = await store.create({ entityType: type, entityId: 'holder', events: withIds(1) });
    const badEvent =
      bad === 'nul'
        ? { eventType: 'Bad', eventData: { text: 'nul \u0000 inside' } }
        : { eventId: holder.eventIds[0], eventType: 'Counted', eventData: {} };
    await Promise.all(['g1', 'g2', 'g3'].map((entityId) => store.create({ entityType: type, entityId, events: events(1) })));
    const outcomes = await burst<AppendResult>([
      () => store.append({ entityType: type, entityId: 'g1', expectedVersion: 1, events: events(1) }),
      () => store.append({ entityType: type, entityId: 'g2', expectedVersion: 1, events: events(2) }),
      () => store.create({ entityType: type, entityId: 'bad', events: [badEvent] }),
      () => store.append({ entityType: type, entityId: 'g3', expectedVersion: 1, events: events(3) }),
    ]);
    expect([0, 1, 3].map((i) => fulfilled(outcomes[i]).entityVersion)).toEqual([2, 3, 4]);
    expect(rejected(outcomes[2])).toBeInstanceOf(refusal);
    if (bad === 'taken') expect((rejected(outcomes[2]) as Error).message).toContain(holder.eventIds[0]);
    const { rows } = await db.pool.query(`SELECT entity_id FROM "${db.schema}".entities WHERE entity_type = $1 ORDER BY entity_id`, [type]);
    expect(rows.map((r) => r.entity_id)).toEqual(['g1', 'g2', 'g3', 'holder']);
  });

  it('runs writes of one entity sent in one burst one after the other, in the order they were sent', async () => {
    await store.create({ entityType: 'Seq', entityId: 'seq-1', events: events(1) });
    await store.create({ entityType: 'Seq', entityId: 'seq-token', events: events(1) });
    await store.create({ entityType: 'Seq', entityId: 'seq-retry', events: events(1) });
    const retried = withIds(1);
    const outcomes = await burst<AppendResult>([
      () => store.append({ entityType: 'Seq', entityId: 'seq-1', expectedVersion: 1, events: events(1) }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-token', expectedVersion: 1, events: events(1), triggeringEventToken: 'twice' }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-retry', expectedVersion: 1, events: retried }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-1', expectedVersion: 2, events: events(2) }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-token', expectedVersion: 2, events: events(1), triggeringEventToken: 'twice' }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-retry', expectedVersion: 1, events: retried }),
      () => store.append({ entityType: 'Seq', entityId: 'seq-1', expectedVersion: 1, events: events(1) }),
    ]);
    expect(fulfilled(outcomes[0]).entityVersion).toBe(2);
    expect(fulfilled(outcomes[3]).entityVersion).toBe(4);
    expect(rejected(outcomes[6])).toMatchObject({ expectedVersion: 1, actualVersion: 4 });
    expect(rejected(outcomes[4])).toBeInstanceOf(DuplicateTriggeringEventError);
    // The retry beside its original answers the original's result.
    expect(fulfilled(outcomes[5])).toEqual(fulfilled(outcomes[2]));
    // Each later write went in a later group (transaction).
    expect(transactionOf(fulfilled(outcomes[3]))).toBeGreaterThan(transactionOf(fulfilled(outcomes[0])));
    expect(transactionOf(fulfilled(outcomes[0]))).toBe(transactionOf(fulfilled(outcomes[2])));
  });

  it('answers every member of a group whose connection is killed that its outcome is unknown, and stores none of them', async () => {
    await Promise.all(['kill-a', 'kill-b', 'kill-c'].map((entityId) => store.create({ entityType: 'Kill', entityId, events: events(1) })));
    const blocker = await store.create({ entityType: 'Gate', events: events(1) });
    // The group waits on this entity's row lock, and is killed while it waits.
    const lock = await lockEntity(blocker.entityId);
    try {
      const outcomes = burst<AppendResult>([
        () => store.append({ entityType: 'Kill', entityId: 'kill-a', expectedVersion: 1, events: events(1) }),
        () => store.append({ entityType: 'Gate', entityId: blocker.entityId, expectedVersion: 1, events: events(1) }),
        () => store.append({ entityType: 'Kill', entityId: 'kill-b', expectedVersion: 1, events: events(2) }),
        () => store.create({ entityType: 'Kill', entityId: 'kill-new', events: events(1) }),
      ]);
      const pid = await blockedWriter('WITH members AS');
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      for (const outcome of await outcomes) {
        expect(rejected(outcome)).toBeInstanceOf(WriteOutcomeUnknownError);
        expect((rejected(outcome) as Error).message).toMatch(/may or may not be stored.*same event ids is safe/);
      }
    } finally {
      await lock.release();
    }
    const { rows } = await db.pool.query(`SELECT entity_id, entity_version FROM "${db.schema}".entities WHERE entity_type = 'Kill' ORDER BY entity_id`);
    expect(rows).toEqual(['kill-a', 'kill-b', 'kill-c'].map((entity_id) => ({ entity_id, entity_version: 1 })));
    // The store goes on: the same writes, sent again, commit.
    await store.append({ entityType: 'Kill', entityId: 'kill-a', expectedVersion: 1, events: events(1) });
    await store.create({ entityType: 'Kill', entityId: 'kill-new', events: events(1) });
    await store.append({ entityType: 'Gate', entityId: blocker.entityId, expectedVersion: 1, events: events(1) });
  });

  it('groups writers that append again as soon as their previous group answered them, rather than sending the first one alone', async () => {
    const writers = 8;
    const rounds = 6;
    const entities = await Promise.all(Array.from({ length: writers }, () => store.create({ entityType: 'Loop', events: events(1) })));
    const transactions = new Set<string>();
    await Promise.all(
      entities.map(async ({ entityId }) => {
        for (let version = 1; version <= rounds; version++) {
          transactions.add(transactionOf(await store.append({ entityType: 'Loop', entityId, expectedVersion: version, events: events(1) })).toString());
        }
      }),
    );
    // The writers start together and each round answers them together: one transaction a round. Taking the
    // first writer answered alone to the free connection made two a round (a group of 1, then one of 7).
    expect(transactions.size).toBeLessThanOrEqual(rounds + 1);
  });

  it('sends a write that finds a committer free at once, as its own statement', async () => {
    const pool = (store as any).writePool;
    const connect = pool.connect.bind(pool);
    const sent: string[] = [];
    pool.connect = async () => {
      const client = await connect();
      const query = client.query.bind(client);
      client.query = (config: { name: string }) => {
        sent.push(config.name);
        return query(config);
      };
      const release = client.release;
      client.release = (err?: Error) => {
        Object.assign(client, { query, release });
        return release.call(client, err);
      };
      return client;
    };
    try {
      const { entityId } = await store.create({ entityType: 'Lone', events: events(1) });
      await store.append({ entityType: 'Lone', entityId, expectedVersion: 1, events: events(1) });
    } finally {
      pool.connect = connect;
    }
    expect(sent).toEqual([`eventuate.${db.schema}.create`, `eventuate.${db.schema}.append`]);
  });
});
