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
  /** Ends every session still connected to it, then drops it. */
  drop(): Promise<void>;
}

/** The names of the test files' own databases (database-environment.ts) begin so. */
export const FILE_DATABASE_PREFIX = 'f_';

/** The test cluster's database `database`. */
export function databaseNamed(database: string): string {
  const url = new URL(databaseUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs one statement on a connection of its own to `database`, by default template1: CREATE and
 * DROP DATABASE take transaction ids, which would hold back the feeds of a database they ran in.
 */
export async function adminQuery(sql: string, values: unknown[] = [], database = 'template1'): Promise<any[]> {
  const pool = new Pool({ connectionString: databaseNamed(database), max: 1 });
  try {
    return (await pool.query(sql, values)).rows;
  } finally {
    await pool.end();
  }
}

/**
 * A database of its own in the test cluster: for what depends on the other databases' sessions
 * (the feed horizon), or must not be disturbed by other test files' open transactions.
 */
export async function scratchDatabase(prefix = 'db'): Promise<ScratchDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  // A copy of template0, which nobody connects to.
  await adminQuery(`CREATE DATABASE "${name}" TEMPLATE template0`);
  return {
    name,
    connectionString: databaseNamed(name),
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}
