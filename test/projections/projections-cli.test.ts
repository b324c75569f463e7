import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { AggregateRepository, SubscriptionManager, feedSource, memoryCursorStore, postgresCursorStore, postgresDeadLetters, postgresProjection } from '../../client';
import { buildApp } from '../../event-store-server/app';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { Deposit, OpenWallet, Wallet } from '../subscriptions/wallet-domain';
import { WalletBalances, balancesIn } from './wallet-balances';

const REPO_ROOT = resolve(__dirname, '../..');
const quiet = pino({ level: 'silent' });

describe('eventuate-local projections rebuild and eventuate-local subscribers', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let url: string;
  let viewSchema: string;

  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cli/cli.ts', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: db.connectionString, EVENTUATE_URL: '', VIEW_SCHEMA: viewSchema },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const ours = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((row) => row.schema === viewSchema || row.name === 'cliWatcher');

  beforeAll(async () => {
    db = testDatabase('projcli');
    viewSchema = `${db.schema}_view`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    app = buildApp({ store, defaultMetrics: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const wallets = new AggregateRepository(Wallet, store);
    for (const id of ['w-1', 'w-2']) {
      await wallets.save(new OpenWallet(id), { entityId: id });
      await wallets.update(id, new Deposit(10));
    }
  });

  afterAll(async () => {
    await app.close();
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE; DROP SCHEMA IF EXISTS "${viewSchema}__next" CASCADE`);
    await db.drop();
  });

  it('shows a projection and a feed subscriber with their lag and dead letters; rebuilds the projection from a module', async () => {
    const balances = new WalletBalances();
    balances.broken.add(10);
    const projection = postgresProjection(balances, { connectionString: db.connectionString, schema: viewSchema, logger: quiet });
    const deadLetters = postgresDeadLetters({ connectionString: db.connectionString, schema: db.schema });
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }), deadLetters, subscribers: [projection], logger: quiet });
    await manager.start();
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-2', entityVersion: 1 });
    await new Promise((r) => setTimeout(r, 500));
    await manager.stop();
    await projection.close();
    const cursors = postgresCursorStore({ connectionString: db.connectionString, schema: db.schema });
    await cursors.save('cliWatcher', (await store.readFeed({ limit: 1 })).cursor);
    await cursors.close?.();

    const listed = await cli(['subscribers', '--schema', db.schema, '--url', url, '--json']);
    expect(listed.code).toBe(0);
    const rows = ours(listed.stdout);
    const projectionRow = rows.find((r) => r.kind === 'projection');
    expect(projectionRow).toMatchObject({ name: 'wallet_balances', version: 1, entityTypes: ['Wallet'], deadLetters: { failed: 2, parked: 0, parkedEntities: 2 } });
    // Both deposits are dead letters (parked entities); the checkpoint is past them, so nothing waits.
    expect(projectionRow.lag).toMatchObject({ events: 0, atLeast: false, allTypes: false });
    const watcher = rows.find((r) => r.name === 'cliWatcher');
    expect(watcher).toMatchObject({ kind: 'subscriber', lag: { events: 3, atLeast: false, allTypes: true } });

    const table = await cli(['subscribers', '--schema', db.schema]);
    expect(table.stdout).toMatch(/NAME\s+KIND\s+STATE\s+LAST MOVED\s+DEAD LETTERS/);
    expect(table.stdout).toContain(`projection v1 (${viewSchema})`);

    // The module fixes the handler (no broken amounts) and reads the feed from the server.
    const dir = mkdtempSync(join(tmpdir(), 'projections-module-'));
    const modulePath = join(dir, 'projections.ts');
    writeFileSync(
      modulePath,
      `import { postgresProjection } from ${JSON.stringify(join(REPO_ROOT, 'client'))};
import { WalletBalances } from ${JSON.stringify(join(REPO_ROOT, 'test/projections/wallet-balances'))};
export const projections = () => [postgresProjection(new WalletBalances(), { connectionString: process.env.DATABASE_URL!, schema: process.env.VIEW_SCHEMA })];
`,
    );
    const rebuilt = await cli(['projections', 'rebuild', 'wallet_balances', '--module', modulePath, '--url', url]);
    expect(rebuilt.stderr).toBe('');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/replaying\s+4 \/ 4 events \(100%\)/);
    expect(rebuilt.stdout).toContain(`rebuilt wallet_balances: 4 events`);
    expect(await balancesIn(db.pool, viewSchema)).toEqual([
      { walletId: 'w-1', balance: 10, deposits: 1 },
      { walletId: 'w-2', balance: 10, deposits: 1 },
    ]);

    const unknown = await cli(['projections', 'rebuild', 'nothing_here', '--module', modulePath, '--url', url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`exports no projection 'nothing_here' (it exports 'wallet_balances')`);
    await deadLetters.close?.();
  });
});
