import { Pool, type QueryResultRow } from 'pg';
import type { StoredEvent } from '../../src/model';
import { migrationLockKey } from '../../src/postgres/migrations';
import { quoteIdent } from '../../src/postgres/sql';
import type { DeadLetter, DeadLetterState, DeadLetterStore, DeliveryOrigin } from './dead-letter-store';

export interface PostgresDeadLettersOptions {
  connectionString: string;
  /** Schema of the `subscriber_dead_letters` table (created if missing); default `eventuate`. */
  schema?: string;
}

type Row = {
  subscriber_id: string;
  id: string;
  sequence: string;
  entity_key: string;
  entity_version: number | null;
  state: DeadLetterState;
  parks_entity: boolean;
  event: StoredEvent | null;
  unreadable: string | null;
  origin: DeliveryOrigin;
  error: string | null;
  attempts: number;
  recorded_at: Date;
  failed_at: Date | null;
  retry_requested_at: Date | null;
};

/**
 * The table, created by the first subscriber or CLI that uses it rather than by the event store's
 * migrations: dead letters belong with the subscriber's own data (point the store at its view's
 * database), which need not be the event store's database. A later change of it is a new statement
 * here, guarded the same way. `event` is json, not jsonb: read back as it was delivered, keys in their order.
 */
const createTable = (table: string) => `
  CREATE TABLE IF NOT EXISTS ${table} (
    subscriber_id text NOT NULL,
    id text NOT NULL,
    sequence bigint GENERATED ALWAYS AS IDENTITY,
    entity_key text NOT NULL,
    entity_version integer,
    state text NOT NULL CHECK (state IN ('failed', 'parked')),
    parks_entity boolean NOT NULL,
    event json,
    unreadable text,
    origin jsonb NOT NULL,
    error text,
    attempts integer NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    failed_at timestamptz,
    retry_requested_at timestamptz,
    PRIMARY KEY (subscriber_id, id),
    CHECK ((event IS NULL) <> (unreadable IS NULL))
  );
  CREATE INDEX IF NOT EXISTS subscriber_dead_letters_by_entity ON ${table} (subscriber_id, entity_key, sequence)`;

/** The queries, by name; `$1` is always the subscriber id. */
/** The counts a subscriber's status shows, as SQL select items (also grouped by subscriber in `eventuate-local subscribers`). */
export const DEAD_LETTER_COUNTS = `count(*) FILTER (WHERE state = 'failed')::int AS failed, count(*) FILTER (WHERE state = 'parked')::int AS parked,
  count(DISTINCT entity_key) FILTER (WHERE parks_entity)::int AS parked_entities`;

const queries = (t: string) => ({
  record: `INSERT INTO ${t} (subscriber_id, id, entity_key, entity_version, state, parks_entity, event, unreadable, origin, error, attempts, failed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (subscriber_id, id) DO NOTHING`,
  find: `SELECT * FROM ${t} WHERE subscriber_id = $1 AND id = $2`,
  list: `SELECT * FROM ${t} WHERE subscriber_id = $1 AND ($2::text IS NULL OR entity_key = $2) AND ($3::boolean IS NULL OR parks_entity = $3)
         ORDER BY sequence LIMIT $4`,
  parkedEntities: `SELECT DISTINCT entity_key FROM ${t} WHERE subscriber_id = $1 AND parks_entity`,
  pending: `SELECT * FROM ${t} l WHERE subscriber_id = $1 AND (
              (state = 'failed' AND retry_requested_at IS NOT NULL)
              OR (state = 'parked' AND parks_entity AND NOT EXISTS (
                SELECT FROM ${t} e WHERE e.subscriber_id = l.subscriber_id AND e.entity_key = l.entity_key AND e.parks_entity AND e.sequence < l.sequence)))
            ORDER BY sequence`,
  counts: `SELECT ${DEAD_LETTER_COUNTS} FROM ${t} WHERE subscriber_id = $1`,
  requestRetry: `UPDATE ${t} SET retry_requested_at = coalesce(retry_requested_at, now())
                 WHERE subscriber_id = $1 AND state = 'failed' AND event IS NOT NULL AND ($2::text[] IS NULL OR id = ANY($2)) RETURNING id, sequence`,
  claimRetry: `UPDATE ${t} SET retry_requested_at = NULL WHERE subscriber_id = $1 AND id = $2 AND retry_requested_at IS NOT NULL`,
  recordFailure: `UPDATE ${t} SET state = 'failed', error = $3, attempts = attempts + $4, failed_at = $5 WHERE subscriber_id = $1 AND id = $2`,
  remove: `DELETE FROM ${t} WHERE subscriber_id = $1 AND id = $2`,
});

/**
 * Dead letters in PostgreSQL, `<schema>.subscriber_dead_letters`: durable, shared by the running
 * subscribers and `eventuate-local dead-letters` in another process.
 */
export function postgresDeadLetters(options: PostgresDeadLettersOptions): DeadLetterStore {
  const schema = options.schema ?? 'eventuate';
  const table = `${quoteIdent(schema)}.subscriber_dead_letters`;
  const sql = queries(table);
  const pool = new Pool({ connectionString: options.connectionString, max: 3 });
  pool.on('error', () => undefined);
  let ready: Promise<void> | undefined;
  const ensureTable = () =>
    (ready ??= (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // The migrations' lock: servers and subscribers creating tables in one schema at once do not collide.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [migrationLockKey(schema)]);
        const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        if (rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
        await client.query(createTable(table));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        ready = undefined;
        throw err;
      } finally {
        client.release();
      }
    })());
  const query = async <R extends QueryResultRow>(text: string, values: unknown[]) => {
    await ensureTable();
    return pool.query<R>(text, values);
  };

  return {
    async record(letter) {
      const { rowCount } = await query(sql.record, [
        letter.subscriberId,
        letter.id,
        letter.entityKey,
        letter.entityVersion ?? null,
        letter.state,
        letter.parksEntity,
        letter.event === undefined ? null : JSON.stringify(letter.event),
        letter.unreadable ?? null,
        JSON.stringify(letter.origin),
        letter.error ?? null,
        letter.attempts,
        letter.failedAt ?? null,
      ]);
      return rowCount === 1;
    },
    async find(subscriberId, id) {
      const { rows } = await query<Row>(sql.find, [subscriberId, id]);
      return rows[0] && toLetter(rows[0]);
    },
    async list(subscriberId, options = {}) {
      const { rows } = await query<Row>(sql.list, [subscriberId, options.entityKey ?? null, options.parksEntity ?? null, options.limit ?? null]);
      return rows.map(toLetter);
    },
    async parkedEntities(subscriberId) {
      const { rows } = await query<{ entity_key: string }>(sql.parkedEntities, [subscriberId]);
      return rows.map((r) => r.entity_key);
    },
    async pending(subscriberId) {
      const { rows } = await query<Row>(sql.pending, [subscriberId]);
      return rows.map(toLetter);
    },
    async counts(subscriberId) {
      const { rows } = await query<{ failed: number; parked: number; parked_entities: number }>(sql.counts, [subscriberId]);
      return { failed: rows[0].failed, parked: rows[0].parked, parkedEntities: rows[0].parked_entities };
    },
    async requestRetry(subscriberId, ids) {
      const { rows } = await query<{ id: string; sequence: string }>(sql.requestRetry, [subscriberId, ids === 'all' ? null : ids]);
      return rows.sort((a, b) => Number(a.sequence) - Number(b.sequence)).map((r) => r.id);
    },
    async claimRetry(subscriberId, id) {
      const { rowCount } = await query(sql.claimRetry, [subscriberId, id]);
      return rowCount === 1;
    },
    async recordFailure(subscriberId, id, { error, attempts, at }) {
      await query(sql.recordFailure, [subscriberId, id, error, attempts, at]);
    },
    async remove(subscriberId, id) {
      const { rowCount } = await query(sql.remove, [subscriberId, id]);
      return rowCount === 1;
    },
    close: () => pool.end(),
  };
}

function toLetter(row: Row): DeadLetter {
  const letter: DeadLetter = {
    subscriberId: row.subscriber_id,
    id: row.id,
    entityKey: row.entity_key,
    state: row.state,
    parksEntity: row.parks_entity,
    origin: row.origin,
    attempts: row.attempts,
    recordedAt: row.recorded_at.toISOString(),
    sequence: Number(row.sequence),
  };
  if (row.entity_version !== null) letter.entityVersion = row.entity_version;
  if (row.event !== null) letter.event = row.event;
  if (row.unreadable !== null) letter.unreadable = row.unreadable;
  if (row.error !== null) letter.error = row.error;
  if (row.failed_at !== null) letter.failedAt = row.failed_at.toISOString();
  if (row.retry_requested_at !== null) letter.retryRequestedAt = row.retry_requested_at.toISOString();
  return letter;
}
