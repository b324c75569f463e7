import { Pool } from 'pg';
import { repairAfterRestore } from '../../src/postgres/restore-repair';
import { loadConfig } from '../../event-store-server/config';
import type { Command } from './command';

export const command: Command = {
  description: 'renumber the feed of a database restored into another cluster (once, every server stopped)',
  async run(args) {
    if (args.length > 0) {
      console.error(`eventuate-local repair-after-restore: takes no arguments (DATABASE_URL and EVENTUATE_SCHEMA say which store)`);
      return 2;
    }
    const config = loadConfig();
    // Loaded here, not at the top: `help` reads every command, and a client-only install has no server packages.
    const { openDatabase } = await import('../../event-store-server/start-server');
    const database = await openDatabase(config);
    const pool = new Pool({ connectionString: database.connectionString, max: 1 });
    pool.on('error', () => undefined);
    try {
      const outcome = await repairAfterRestore(pool, config.schema);
      const where = `schema ${config.schema} in ${database.location}`;
      if (!outcome.repaired) {
        const newest = outcome.newestTransactionId === null ? 'no events' : `newest event of transaction ${outcome.newestTransactionId}`;
        console.log(`eventuate-local: nothing to repair in ${where}: ${newest}, cluster at transaction ${outcome.presentTransactionId}`);
        return 0;
      }
      console.log(
        `eventuate-local: repaired ${where}: ${outcome.events} events renumbered in their feed order (their transaction ids ` +
          `reached ${outcome.newestTransactionId}, the cluster ${outcome.presentTransactionId}); store identity ` +
          `${outcome.storeId.before} -> ${outcome.storeId.after}`,
      );
      for (const c of outcome.carriedOver) console.log(`  cursor carried over: ${c.table} ${JSON.stringify(c.row)}`);
      for (const c of outcome.left) console.log(`  cursor left as it was (${c.reason}): ${c.table} ${JSON.stringify(c.row)}`);
      console.log(
        '  Every other cursor issued before the repair (subscriber cursor files, cursors kept elsewhere) is now refused with ' +
          'invalid_cursor: start those readers again from the beginning of the feed (their handlers see events again) or from its end.',
      );
      return 0;
    } catch (err) {
      // One transaction: a failure leaves the events as they were.
      console.error(`eventuate-local repair-after-restore failed, the events are unchanged: ${(err as Error).message}`);
      return 1;
    } finally {
      await pool.end();
      await database.embedded?.stop();
    }
  },
};
