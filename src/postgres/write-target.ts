import type { QueryConfig, QueryResult } from 'pg';

export type Row = Record<string, any>;

/** A pool or one connection: what runs the store's statements. */
export interface Queryable {
  query(config: QueryConfig): Promise<QueryResult<Row>>;
}

/** Where a create or append runs: a transaction of its own on the store's pool, or one the caller holds. */
export interface WriteTarget {
  /**
   * Runs the write statement: its one row when it wrote; undefined when it wrote nothing because
   * PostgreSQL refused it (a moved version, a taken id, a unique violation), for the diagnosis to
   * explain. Any other failure is thrown as the driver's.
   */
  write(config: QueryConfig): Promise<Row | undefined>;
  /** Where the diagnosis of a refusal reads: inside the caller's transaction it must see that transaction's own writes. */
  readonly reader: Queryable;
}

/** SQLSTATE unique_violation: a concurrent writer (or an earlier write of the same transaction) won. */
export const UNIQUE_VIOLATION = '23505';

/** Each write a transaction of its own on the pool; `committed` announces it to feed readers. */
export function ownTransactions(pool: Queryable, committed: () => void): WriteTarget {
  return {
    reader: pool,
    async write(config) {
      try {
        const { rows } = await pool.query(config);
        if (rows.length !== 1) return undefined;
        committed();
        return rows[0];
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
        throw err;
      }
    },
  };
}
