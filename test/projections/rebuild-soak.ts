/**
 * npm run soak:rebuild [-- --wallets 1000 --deposits 99]: the rebuild-under-writes scenario at full
 * size (100,000 events by default) on DATABASE_URL or a fresh embedded PostgreSQL. Prints the
 * figures and exits non-zero when the view is not exact or a reader saw a half-built table.
 */
import { parseArgs } from 'node:util';
import { benchDatabase } from '../../bench/support';
import { uniqueName } from '../support/database';
import { rebuildUnderWrites } from './rebuild-under-writes';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { wallets: { type: 'string', default: '1000' }, deposits: { type: 'string', default: '99' } } });
  const database = await benchDatabase();
  const started = Date.now();
  try {
    const outcome = await rebuildUnderWrites({
      connectionString: database.connectionString,
      schema: uniqueName('soak'),
      wallets: Number(values.wallets),
      depositsPerWallet: Number(values.deposits),
      log: (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`),
    });
    const mismatches = outcome.view.filter((row, i) => JSON.stringify(row) !== JSON.stringify(outcome.expected[i]));
    console.log(
      JSON.stringify(
        {
          seeded: outcome.seeded,
          writtenDuringRebuild: outcome.writtenDuring,
          rebuild: { events: outcome.rebuild.events, seconds: Number(outcome.rebuild.seconds.toFixed(1)), eventsPerSecond: Math.round(outcome.rebuild.eventsPerSecond) },
          readerChecks: outcome.readerChecks,
          halfBuiltReads: outcome.halfBuiltReads.length,
          wallets: outcome.view.length,
          walletsDifferingFromReplay: mismatches.length + Math.abs(outcome.view.length - outcome.expected.length),
        },
        null,
        2,
      ),
    );
    return outcome.halfBuiltReads.length === 0 && mismatches.length === 0 && outcome.view.length === outcome.expected.length ? 0 : 1;
  } finally {
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
