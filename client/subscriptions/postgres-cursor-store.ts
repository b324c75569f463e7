import { Pool } from 'pg';
import { quoteIdent } from '../../src/postgres/sql';
import type { CursorStore } from './cursor-store';

export interface PostgresCursorStoreOptions {
  connectionString: string;
  /** Schema of the `subscriber_cursors` table (created if missing); default `eventuate`. */
  schema?: string;
}

/**
 * Feed cursors in PostgreSQL, `<schema>.subscriber_cursors`: durable wherever the subscriber runs.
 * Point it at the database of the subscriber's own view tables to keep both in one place.
 */
export function postgresCursorStore(options: PostgresCursorStoreOptions): CursorStore {
  const schema = options.schema ?? 'eventuate';
  const table = `${quoteIdent(schema)}.subscriber_cursors`;
  const pool = new Pool({ connectionString: options.connectionString, max: 2 });
  pool.on('error', () => undefined);
  let ready: Promise<void> | undefined;
  const ensureTable = () =>
    (ready ??= (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // The migrations' lock: servers and subscribers creating tables in one schema at once do not collide.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`eventuate-migrations:${schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (subscriber_id text PRIMARY KEY, cursor text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        ready = undefined;
        throw err;
      } finally {
        client.release();
      }
    })());
  return {
    async load(subscriberId) {
      await ensureTable();
      const { rows } = await pool.query<{ cursor: string }>(`SELECT cursor FROM ${table} WHERE subscriber_id = $1`, [subscriberId]);
      return rows[0]?.cursor;
    },
    async save(subscriberId, cursor) {
      await ensureTable();
      await pool.query(
        `INSERT INTO ${table} (subscriber_id, cursor) VALUES ($1, $2) ON CONFLICT (subscriber_id) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
        [subscriberId, cursor],
      );
    },
    close: () => pool.end(),
  };
}
