/**
 * npm run soak:sagas [-- --sagas 100 --kills 5]: the process-crash scenario of saga-crash.test.ts (orchestrator and participants SIGKILLed in turn)
 * at full size, on DATABASE_URL or a fresh embedded PostgreSQL. Prints a JSON summary and exits
 * non-zero on any violation (a saga not ended, a participant's invariant broken, a command applied twice).
 */
import { parseArgs } from 'node:util';
import { benchDatabase } from '../../bench/support';
import { uniqueName } from '../support/database';
import { sagasUnderProcessCrashes } from './saga-crash-run';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { sagas: { type: 'string', default: '100' }, kills: { type: 'string', default: '5' } } });
  const database = await benchDatabase();
  const started = Date.now();
  try {
    const outcome = await sagasUnderProcessCrashes({
      connectionString: database.connectionString,
      schema: uniqueName('sagasoak'),
      sagas: Number(values.sagas),
      kills: Number(values.kills),
      settleMs: 300_000,
      log: (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`),
    });
    console.log(JSON.stringify(outcome, null, 2));
    return outcome.violations.length === 0 && outcome.completed + outcome.rolledBack === outcome.sagas ? 0 : 1;
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
