import { basename } from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { adminQuery, FILE_DATABASE_PREFIX, scratchDatabase, type ScratchDatabase } from './database';

/**
 * Jest's node environment with a PostgreSQL database of the test file's own: DATABASE_URL points
 * there while the file runs. The feed's horizon counts every transaction of its database, so in a
 * shared database one file's open (or leaked) transaction would hide the events another file
 * just committed from its feed reads, for as long as it stays open. Each file's schemas live in
 * its own database instead. When the file ends, a transaction it left open is reported, by file.
 */
export default class DatabaseEnvironment extends TestEnvironment {
  private readonly testFile: string;
  private database?: ScratchDatabase;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testFile = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    const prefix = basename(this.testFile).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_').slice(0, 40);
    this.database = await scratchDatabase(`${FILE_DATABASE_PREFIX}${prefix}`);
    this.global.process.env.DATABASE_URL = this.database.connectionString;
  }

  override async teardown(): Promise<void> {
    if (this.database) await this.release(this.database.name);
    await super.teardown();
  }

  /**
   * Reports the transactions the file left open and drops its database, unless sessions of the file's
   * are still connected: ending them now would make their pools emit errors in this worker, which runs
   * other files next. The global teardown drops what is left.
   */
  private async release(name: string): Promise<void> {
    const open = await adminQuery(
      `SELECT pid, state, left(query, 200) AS query FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND (backend_xid IS NOT NULL OR state LIKE 'idle in transaction%')`,
      [name],
    );
    for (const s of open) process.stderr.write(`${this.testFile} left a transaction open (backend ${s.pid}, ${s.state}, last statement: ${s.query})\n`);
    // A prepared transaction belongs to no session and would keep the database; it is rolled back from inside it.
    for (const { gid } of await adminQuery(`SELECT gid FROM pg_prepared_xacts WHERE database = $1`, [name])) {
      process.stderr.write(`${this.testFile} left the prepared transaction ${gid}; rolled back\n`);
      await adminQuery(`ROLLBACK PREPARED '${String(gid).replace(/'/g, "''")}'`, [], name);
    }
    await adminQuery(`DROP DATABASE IF EXISTS "${name}"`).catch(async (err: { code?: string }) => {
      if (err.code !== '55006') throw err; // in use: left for the global teardown
      const sessions = await adminQuery(`SELECT application_name, state, left(query, 100) AS query FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`, [name]);
      process.stderr.write(`${this.testFile} left ${sessions.length} sessions connected: ${JSON.stringify(sessions)}\n`);
    });
  }
}
