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
  const admin = async (sql: string) => {
    const pool = new Pool({ connectionString: inDatabase('template1'), max: 1 });
    try {
      await pool.query(sql);
    } finally {
      await pool.end();
    }
  };
  await admin(`CREATE DATABASE "${name}" TEMPLATE template0`);
  return {
    name,
    connectionString: inDatabase(name),
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
