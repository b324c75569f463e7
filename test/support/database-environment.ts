import { basename } from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { scratchDatabase, type ScratchDatabase } from './database';

/**
 * Jest's node environment with a PostgreSQL database of the test file's own: DATABASE_URL points
 * there while the file runs. The feed's horizon counts every transaction of its database, so in a
 * shared database one file's open (or leaked) transaction would hide the events another file
 * just committed from its feed reads, for as long as it stays open. Each file's schemas live in
 * its own database instead; the database is dropped when the file ends, and a transaction the file
 * left open is reported there, by file, rather than stalling someone else's test.
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
    this.database = await scratchDatabase(`f_${prefix}`);
    this.global.process.env.DATABASE_URL = this.database.connectionString;
  }

  override async teardown(): Promise<void> {
    const leftovers = (await this.database?.drop()) ?? [];
    for (const leftover of leftovers) process.stderr.write(`${this.testFile} left ${leftover} open in its database; it was ended when the file finished\n`);
    await super.teardown();
  }
}
