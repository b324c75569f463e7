import type { ClientBase } from 'pg';
import { quoteIdent } from '../../src/postgres/sql';

/**
 * The relay's position in the feed, one row per relay name, in `<schema>.relay_cursors`.
 * Written only after Kafka acknowledged everything up to it.
 */
export class RelayCursors {
  private readonly table: string;

  constructor(
    private readonly schema: string,
    private readonly relayName: string,
  ) {
    this.table = `${quoteIdent(schema)}.relay_cursors`;
  }

  /** Creates the table if needed, under the migrations' advisory lock so concurrent starts do not race. */
  async ensureTable(client: ClientBase): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`eventuate-migrations:${this.schema}`]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (relay_name text PRIMARY KEY, cursor text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** The stored cursor; '' (the start of the feed) when this relay never published. */
  async load(client: ClientBase): Promise<string> {
    const { rows } = await client.query<{ cursor: string }>(`SELECT cursor FROM ${this.table} WHERE relay_name = $1`, [this.relayName]);
    return rows[0]?.cursor ?? '';
  }

  async save(client: ClientBase, cursor: string): Promise<void> {
    await client.query(
      `INSERT INTO ${this.table} (relay_name, cursor) VALUES ($1, $2)
       ON CONFLICT (relay_name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
      [this.relayName, cursor],
    );
  }
}
