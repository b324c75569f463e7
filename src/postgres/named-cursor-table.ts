import type { QueryResult, QueryResultRow } from 'pg';
import { migrationLockKey } from './migrations';
import { quoteIdent } from './sql';

/** Anything that runs a query: a client, a pool (on any of its clients), a wrapper of either. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

const COLUMN_OR_TABLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A table of feed cursors keyed by a name (`<nameColumn> text PRIMARY KEY, cursor text, updated_at`):
 * the relay's position (`relay_cursors`), each feed subscriber's (`subscriber_cursors`).
 * Created on first use, so a reader needs no migration of its own.
 */
export class NamedCursorTable {
  private readonly table: string;
  private readonly nameColumn: string;

  constructor(
    private readonly schema: string,
    table: string,
    nameColumn: string,
  ) {
    if (!COLUMN_OR_TABLE.test(table) || !COLUMN_OR_TABLE.test(nameColumn)) throw new Error(`not a table and column name: ${table}.${nameColumn}`);
    this.table = `${quoteIdent(schema)}.${table}`;
    this.nameColumn = nameColumn;
  }

  /**
   * Creates the schema (when missing) and the table, in one transaction under the migrations'
   * advisory lock, so servers, relays and subscribers starting together do not collide. The schema
   * is created only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the
   * database even when the schema exists, which a relay's or subscriber's role may lack.
   * `client` must be one session (not a pool): the statements form a transaction.
   */
  async ensure(client: Queryable): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [migrationLockKey(this.schema)]);
      const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
      if (rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(this.schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (${this.nameColumn} text PRIMARY KEY, cursor text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** The stored cursor of `name`, or undefined when it never saved one. */
  async load(db: Queryable, name: string): Promise<string | undefined> {
    const { rows } = await db.query<{ cursor: string }>(`SELECT cursor FROM ${this.table} WHERE ${this.nameColumn} = $1`, [name]);
    return rows[0]?.cursor;
  }

  async save(db: Queryable, name: string, cursor: string): Promise<void> {
    await db.query(
      `INSERT INTO ${this.table} (${this.nameColumn}, cursor) VALUES ($1, $2)
       ON CONFLICT (${this.nameColumn}) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
      [name, cursor],
    );
  }

  /**
   * The statement of save, writing only where `condition` is true: an SQL boolean whose parameters
   * are `conditionValues`, numbered from $3 (as `condition(3)` spells them). It answers one row,
   * `held`: the condition's value, so one round trip both checks and writes.
   */
  saveIf(name: string, cursor: string, condition: (firstParam: number) => string, conditionValues: unknown[]): { text: string; values: unknown[] } {
    return {
      // A data-modifying WITH runs to completion whether or not the outer query reads it.
      text: `WITH guard AS (SELECT ${condition(3)} AS held),
        saved AS (INSERT INTO ${this.table} (${this.nameColumn}, cursor) SELECT $1, $2 FROM guard WHERE guard.held
          ON CONFLICT (${this.nameColumn}) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now())
        SELECT held FROM guard`,
      values: [name, cursor, ...conditionValues],
    };
  }
}
