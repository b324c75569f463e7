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

export function testDatabase(prefix = 't'): TestDatabase {
  const connectionString = databaseUrl();
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
