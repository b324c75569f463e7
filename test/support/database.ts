import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

export interface TestDatabase {
  connectionString: string;
  /** A schema no other test file uses. */
  schema: string;
  /** A pool for the test's own checks. */
  pool: Pool;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (its global setup starts PostgreSQL)');
  return url;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A schema of its own, in the test cluster's database or in the one `connectionString` names. */
export function testDatabase(prefix = 't', connectionString = databaseUrl()): TestDatabase {
  const schema = uniqueName(prefix);
  const pool = new Pool({ connectionString, max: 4 });
  return {
    connectionString,
    schema,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

export interface ScratchDatabase {
  /** The database's name. */
  name: string;
  connectionString: string;
  /**
   * Ends every session still connected to it and rolls back its prepared transactions, then drops it.
   * Resolves to what was left open in it (transactions, prepared ones), each described in a phrase.
   */
  drop(): Promise<string[]>;
}

/**
 * A database of its own in the test cluster: for what depends on the other databases' sessions
 * (the feed horizon), or must not be disturbed by other test files' open transactions.
 */
export async function scratchDatabase(prefix = 'db'): Promise<ScratchDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const inDatabase = (database: string) => {
    const url = new URL(databaseUrl());
    url.pathname = `/${database}`;
    return url.toString();
  };
  // Created and dropped from template1 (copying template0, which nobody connects to): these statements
  // take transaction ids, which would hold back the feeds of the shared database if run from there.
  const admin = async (sql: string, values: unknown[] = [], database = 'template1') => {
    const pool = new Pool({ connectionString: inDatabase(database), max: 1 });
    try {
      return (await pool.query(sql, values)).rows;
    } finally {
      await pool.end();
    }
  };
  await admin(`CREATE DATABASE "${name}" TEMPLATE template0`);
  return {
    name,
    connectionString: inDatabase(name),
    async drop() {
      const open = await admin(
        `SELECT pid, state, left(query, 200) AS query FROM pg_stat_activity WHERE datname = $1 AND (backend_xid IS NOT NULL OR state LIKE 'idle in transaction%')`,
        [name],
      );
      const prepared = await admin(`SELECT gid FROM pg_prepared_xacts WHERE database = $1`, [name]);
      // A prepared transaction outlives its session and keeps the database from being dropped; it is rolled back from inside it.
      for (const { gid } of prepared) await admin(`ROLLBACK PREPARED '${String(gid).replace(/'/g, "''")}'`, [], name);
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return [
        ...open.map((s) => `a transaction (backend ${s.pid}, ${s.state}, last statement: ${s.query})`),
        ...prepared.map((p) => `the prepared transaction ${p.gid}`),
      ];
    },
  };
}
