import { Pool } from 'pg';
import { NamedCursorTable } from '../../src/postgres/named-cursor-table';
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
  const table = new NamedCursorTable(options.schema ?? 'eventuate', 'subscriber_cursors', 'subscriber_id');
  const pool = new Pool({ connectionString: options.connectionString, max: 2 });
  pool.on('error', () => undefined);
  let ready: Promise<void> | undefined;
  const ensureTable = () =>
    (ready ??= (async () => {
      const client = await pool.connect();
      try {
        await table.ensure(client);
      } catch (err) {
        ready = undefined;
        throw err;
      } finally {
        client.release();
      }
    })());
  return {
    async load(subscriberId) {
      await ensureTable();
      return table.load(pool, subscriberId);
    },
    async save(subscriberId, cursor) {
      await ensureTable();
      await table.save(pool, subscriberId, cursor);
    },
    close: () => pool.end(),
  };
}
