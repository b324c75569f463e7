import { join } from 'node:path';
import { Pool } from 'pg';
import { startEmbeddedPostgres } from 'eventuate-local-ts/server';

export interface ViewDatabase {
  connectionString: string;
  pool: Pool;
  /** Where the view lives, for people reading the output. */
  description: string;
  close(): Promise<void>;
}

/**
 * The PostgreSQL of the examples' projections: DATABASE_URL, or else an embedded cluster of the
 * examples' own (the server's embedded one listens on a port only the server knows). The views and
 * their positions stay there across runs, so a run goes on from where the last one stopped.
 */
export async function openViewDatabase(): Promise<ViewDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const pool = new Pool({ connectionString: url, max: 10 });
    return { connectionString: url, pool, description: 'DATABASE_URL', close: () => pool.end() };
  }
  const dataDir = join(process.env.EVENTUATE_DATA_DIR || '.eventuate', 'examples');
  const postgres = await startEmbeddedPostgres({ dataDir });
  const pool = new Pool({ connectionString: postgres.connectionString, max: 10 });
  let stopping = false;
  // pool.end() resolves before its idle connections have closed; PostgreSQL's shutdown then sends
  // them an error, which the pool re-emits and which, unheard, would crash the process.
  pool.on('error', (error) => stopping || console.error(`view database: ${error.message}`));
  return {
    connectionString: postgres.connectionString,
    pool,
    description: `embedded PostgreSQL in ${postgres.dataDir}`,
    async close() {
      await pool.end();
      stopping = true;
      await postgres.stop();
    },
  };
}
