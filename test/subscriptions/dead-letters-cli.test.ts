import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { AggregateRepository, SubscriptionManager, feedSource, memoryCursorStore, postgresDeadLetters, type DeadLetterStore } from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { balanceOf, balanceViewClass, createBalanceTable } from './balance-view';
import { Deposit, OpenWallet, Wallet } from './wallet-domain';

const REPO_ROOT = resolve(__dirname, '../..');
const CliBalanceView = balanceViewClass('cliBalanceView');

describe('eventuate-local dead-letters, from another process than the running subscriber', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let deadLetters: DeadLetterStore;
  let manager: SubscriptionManager;
  let view: InstanceType<typeof CliBalanceView>;
  let table: string;
  let wallets: AggregateRepository<Wallet>;

  const cli = async (args: string[], env: Record<string, string> = { DATABASE_URL: db.connectionString }) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cli/cli.ts', 'dead-letters', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: '', ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const withSchema = (...args: string[]) => [...args, '--schema', db.schema];
  const balance = (wallet: string) => balanceOf(db.pool, table, wallet);

  beforeAll(async () => {
    db = testDatabase('dlcli');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    wallets = new AggregateRepository(Wallet, store);
    deadLetters = postgresDeadLetters({ connectionString: db.connectionString, schema: db.schema });
    table = `"${db.schema}".balances`;
    await createBalanceTable(db.pool, table);
    view = new CliBalanceView(db.pool, table);
    manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters,
      deadLetterPollMs: 200,
      subscribers: [view],
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop();
    await deadLetters.close?.();
    await store.close();
    await db.drop();
  });

  // Each command is a new Node process compiling TypeScript: slow on a loaded machine.
  jest.setTimeout(300_000);

  it('lists a poison event and the one parked behind it; a retry asked from the CLI reaches the running subscriber', async () => {
    await wallets.save(new OpenWallet('ann'), { entityId: 'cli-w' });
    for (const amount of [5, 13, 6]) await wallets.update('cli-w', new Deposit(amount));
    await eventually(async () => (await deadLetters.counts('cliBalanceView')).parked === 1, 'the poison event and one parked', 60_000);
    const [poison, waiting] = await deadLetters.list('cliBalanceView');

    const listed = await cli(withSchema('list', 'cliBalanceView'));
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('cliBalanceView: 1 failed, 1 parked');
    expect(lines[1]).toMatch(new RegExp(`^ {2}failed {2}${poison.id} \\(Deposited Wallet/cli-w v3\\) {2}failed \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, attempts 2$`));
    expect(lines[2]).toBe('          amount 13 is unlucky');
    expect(lines[3]).toMatch(new RegExp(`^ {2}parked {2}${waiting.id} \\(Deposited Wallet/cli-w v4\\) {2}parked \\d{4}-`));
    expect(lines).toHaveLength(4);
    const json = (await cli(withSchema('list', 'cliBalanceView', '--json'))).stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(json.map((l) => [l.id, l.state, l.event.eventData])).toEqual([
      [poison.id, 'failed', { amount: 13 }],
      [waiting.id, 'parked', { amount: 6 }],
    ]);

    // Before the fix: the subscriber retries at its next poll, fails again, and says so in the list.
    const early = await cli(withSchema('retry', 'cliBalanceView', poison.id));
    expect(early).toMatchObject({ code: 0, stdout: `asked cliBalanceView to retry ${poison.id}; the running subscriber does at its next look at the store (list shows the outcome)\n` });
    await eventually(async () => (await deadLetters.find('cliBalanceView', poison.id))?.attempts === 4, 'the retry made and failed', 60_000);
    expect(await balance('cli-w')).toEqual({ balance: 5, version: 2 });

    view.broken.clear();
    expect((await cli(withSchema('retry', 'cliBalanceView', '--all'))).code).toBe(0);
    await eventually(async () => (await balance('cli-w'))?.version === 4, 'the retried event and the parked one applied', 60_000);
    expect(await balance('cli-w')).toEqual({ balance: 24, version: 4 });
    expect(await deadLetters.list('cliBalanceView')).toEqual([]);
  });

  it('discard from the CLI: the running subscriber handles the parked events without the discarded one', async () => {
    view.broken.add(13);
    await wallets.save(new OpenWallet('bo'), { entityId: 'cli-d' });
    for (const amount of [13, 7]) await wallets.update('cli-d', new Deposit(amount));
    await eventually(async () => (await deadLetters.counts('cliBalanceView')).parked === 1, 'one parked', 60_000);
    const [poison, waiting] = await deadLetters.list('cliBalanceView');

    const refused = await cli(withSchema('discard', 'cliBalanceView', waiting.id));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot discard dead letter ${waiting.id} of subscriber cliBalanceView: it has not failed, it is parked behind failed letter ${poison.id} of entity Wallet/cli-d`);

    const discarded = await cli(withSchema('discard', 'cliBalanceView', poison.id));
    expect(discarded).toMatchObject({ code: 0, stdout: `discarded ${poison.id} (Deposited Wallet/cli-d v2); the events parked behind it are handled next, in order, by the running subscriber\n` });
    await eventually(async () => (await balance('cli-d'))?.version === 3, 'the parked deposit applied', 60_000);
    expect(await balance('cli-d')).toEqual({ balance: 7, version: 3 });
    expect(await deadLetters.list('cliBalanceView')).toEqual([]);
  });

  it('says what is wrong with a request: unknown id (1), bad arguments or no database (2)', async () => {
    const unknown = await cli(withSchema('retry', 'cliBalanceView', 'no-such-id'));
    expect(unknown).toMatchObject({ code: 1, stderr: 'eventuate-local: dead letter no-such-id of subscriber cliBalanceView does not exist (list shows the ids)\n' });
    const both = await cli(withSchema('retry', 'cliBalanceView', 'x', '--all'));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^eventuate-local: retry takes one dead letter id, or --all\n\nusage: eventuate-local dead-letters list/);
    const noDatabase = await cli(['list', 'cliBalanceView'], {});
    expect(noDatabase.code).toBe(2);
    expect(noDatabase.stderr).toMatch(/^eventuate-local: set DATABASE_URL or --database-url: the PostgreSQL the subscriber keeps its dead letters in/);
  });
});
