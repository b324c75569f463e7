import pino from 'pino';
import {
  AggregateRepository,
  ProjectionStoppedError,
  ProjectionVersionError,
  ProjectionWaitTimeoutError,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  postgresProjection,
  type DeadLetterStore,
  type PostgresProjection,
} from '../../client';
import { encodeCursor } from '../../src/cursor';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { Deposit, OpenWallet, Wallet } from '../subscriptions/wallet-domain';
import { WalletBalances, balancesIn } from './wallet-balances';

const quiet = pino({ level: 'silent' });

describe('PostgreSQL projections', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let wallets: AggregateRepository<Wallet>;
  let viewSchema: string;
  let deadLetters: DeadLetterStore;
  const running: Array<{ manager: SubscriptionManager; projection: PostgresProjection<WalletBalances> }> = [];

  const start = async (balances = new WalletBalances(), options: { rebuildOnVersionChange?: boolean } = {}) => {
    const projection = postgresProjection(balances, { connectionString: db.connectionString, schema: viewSchema, feed: store, logger: quiet, ...options });
    const manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters,
      deadLetterPollMs: 100,
      subscribers: [projection],
      logger: quiet,
    });
    running.push({ manager, projection });
    await manager.start();
    return { manager, projection, balances };
  };
  const stopAll = async () => {
    for (const { manager, projection } of running.splice(0)) {
      await manager.stop();
      await projection.close();
    }
  };
  const deposits = async (wallet: string, amounts: number[]) => {
    await wallets.save(new OpenWallet(wallet), { entityId: wallet });
    let last;
    for (const amount of amounts) last = await wallets.update(wallet, new Deposit(amount));
    return { entityType: 'Wallet', entityId: wallet, entityVersion: last?.entityVersion ?? 1 };
  };
  const view = () => balancesIn(db.pool, viewSchema);

  beforeEach(async () => {
    db = testDatabase('proj');
    viewSchema = `${db.schema}_view`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 6 });
    wallets = new AggregateRepository(Wallet, store);
    deadLetters = memoryDeadLetters();
  });

  afterEach(async () => {
    await stopAll();
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE; DROP SCHEMA IF EXISTS "${viewSchema}__next" CASCADE`);
    await db.drop();
  });

  it('applies every event once: with its checkpoint lost, the feed delivers everything again and the view does not change', async () => {
    const written = await deposits('w-1', [5, 7, 11]);
    await deposits('w-2', [100]);
    const first = await start();
    await first.projection.waitFor(written);
    const before = await view();
    expect(before).toEqual([
      { walletId: 'w-1', balance: 23, deposits: 3 },
      { walletId: 'w-2', balance: 100, deposits: 1 },
    ]);
    await stopAll();

    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET cursor = NULL, cursor_transaction_id = NULL, cursor_position = NULL`);
    const again = await start();
    const more = await deposits('w-3', [1]);
    await again.projection.waitFor(more);
    // Everything before w-3 was delivered again (the checkpoint was gone) and passed over by version.
    expect(again.balances.calls).toBe(2);
    expect(again.projection.counts).toEqual({ applied: 2, redeliveries: 6 });
    expect((await view()).slice(0, 2)).toEqual(before);
  });

  it('a batch whose connection dies mid-way leaves the view and the checkpoint both where they were, and applies it afterwards', async () => {
    await deposits('w-1', [1, 2, 3, 4, 5, 6]);
    const balances = new WalletBalances();
    const projection = postgresProjection(balances, { connectionString: db.connectionString, schema: viewSchema, logger: quiet });
    running.push({ manager: new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore() }), deadLetters }), projection });
    const { runner } = await projection.open(quiet);
    const page = await store.readFeed({ entityTypes: ['Wallet'] });
    const [opened, ...depositEvents] = page.events;
    expect(await runner.runBatch([opened, depositEvents[0]], depositEvents[0].cursor)).toBe(true);
    const checkpointBefore = (await projection.checkpoint())?.cursor;
    expect(checkpointBefore).toBe(depositEvents[0].cursor);

    // The deposit of 4 kills its own connection, as PostgreSQL going away mid-batch would.
    balances.onDeposit = async (ctx) => {
      if (ctx.event.amount !== 4) return;
      const { rows } = await ctx.db.query('SELECT pg_backend_pid() AS pid');
      await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    };
    const rest = depositEvents.slice(1);
    expect(await runner.runBatch(rest, page.cursor)).toBe(false);
    expect(await view()).toEqual([{ walletId: 'w-1', balance: 1, deposits: 1 }]);
    expect((await projection.checkpoint())?.cursor).toBe(checkpointBefore);

    balances.onDeposit = undefined;
    expect(await runner.runBatch(rest, page.cursor)).toBe(true);
    expect(await view()).toEqual([{ walletId: 'w-1', balance: 21, deposits: 6 }]);
    expect((await projection.checkpoint())?.cursor).toBe(page.cursor);
  });

  it('waitFor resolves once the view shows the write, and times out naming how far the projection got', async () => {
    const { projection, manager } = await start();
    const written = await deposits('w-9', [40, 2]);
    await projection.waitFor(written, { timeoutMs: 10_000 });
    expect(await view()).toEqual([{ walletId: 'w-9', balance: 42, deposits: 2 }]);

    await manager.stop();
    const unseen = await deposits('w-10', [1]);
    const waited = projection.waitFor(unseen, { timeoutMs: 300 });
    await expect(waited).rejects.toBeInstanceOf(ProjectionWaitTimeoutError);
    await expect(waited).rejects.toThrow(`projection 'wallet_balances' had not applied version 2 of Wallet/w-10 after 300 ms (it has applied version 0 of Wallet/w-10)`);
    await expect(projection.waitFor({ entityType: 'Order', entityId: 'o-1', entityVersion: 1 })).rejects.toThrow("does not read entity type 'Order'");
  });

  it("waitFor takes a repository's answer as it is, by its entity's version: the answer's cursor does not tie it to the feed checkpoint, which a Kafka source never moves", async () => {
    const { projection, manager } = await start();
    await wallets.save(new OpenWallet('w-k'), { entityId: 'w-k' });
    const answer = await wallets.update('w-k', new Deposit(5));
    expect(answer.cursor).toEqual(expect.any(String));
    await projection.waitFor(answer, { timeoutMs: 10_000 });
    await manager.stop();
    // The state of a projection fed from Kafka: entity versions recorded, no feed checkpoint.
    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET cursor = NULL, cursor_transaction_id = NULL, cursor_position = NULL`);
    await projection.waitFor(answer, { timeoutMs: 300 });
    await expect(projection.waitFor({ cursor: answer.cursor! }, { timeoutMs: 300 })).rejects.toThrow(`had not applied feed position ${answer.cursor}`);
  });

  it('a poison event parks its entity (listed with its error); retried after the fix, the view ends exact', async () => {
    const balances = new WalletBalances();
    balances.broken.add(13);
    const { projection, manager } = await start(balances);
    await deposits('w-bad', [1, 13, 100]);
    const fine = await deposits('w-ok', [7]);
    await projection.waitFor(fine);
    await eventually(async () => (await manager.deadLetters('wallet_balances').list()).length === 2, 'the failed deposit and the one parked behind it are listed');
    const letters = await manager.deadLetters('wallet_balances').list();
    expect(letters.map((l) => [l.state, l.entityVersion])).toEqual([
      ['failed', 3],
      ['parked', 4],
    ]);
    expect(letters[0].error).toContain('amount 13 is unlucky');
    expect(await view()).toEqual([
      { walletId: 'w-bad', balance: 1, deposits: 1 },
      { walletId: 'w-ok', balance: 7, deposits: 1 },
    ]);

    // Written while it is stopped, so delivered in one batch: w-ok's deposit is applied, w-bad's parks behind its dead letter.
    await manager.stop();
    await wallets.update('w-bad', new Deposit(1000));
    const okAgain = await wallets.update('w-ok', new Deposit(8));
    await manager.start();
    await projection.waitFor(okAgain);
    await eventually(async () => (await manager.deadLetters('wallet_balances').list()).length === 3, 'the later w-bad deposit parks too');

    balances.broken.clear();
    await manager.deadLetters('wallet_balances').retry(letters[0].id);
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-bad', entityVersion: 5 });
    expect(await view()).toEqual([
      { walletId: 'w-bad', balance: 1114, deposits: 4 },
      { walletId: 'w-ok', balance: 15, deposits: 2 },
    ]);
    expect(await manager.deadLetters('wallet_balances').list()).toEqual([]);
  });

  it('refuses to start on tables of another version, and rebuilds them when asked to', async () => {
    const written = await deposits('w-1', [3]);
    const first = await start();
    await first.projection.waitFor(written);
    await stopAll();
    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET version = 7`);
    // A leftover the rebuild shows it replaced.
    await db.pool.query(`UPDATE "${viewSchema}".balances SET balance = -1`);

    await expect(start()).rejects.toThrow(ProjectionVersionError);
    await expect(start()).rejects.toThrow('were built by version 7, the code is version 1');
    await stopAll();

    const rebuilt = await start(new WalletBalances(), { rebuildOnVersionChange: true });
    expect(await view()).toEqual([{ walletId: 'w-1', balance: 3, deposits: 1 }]);
    expect((await rebuilt.projection.checkpoint())?.version).toBe(1);
    const more = await deposits('w-2', [4]);
    await rebuilt.projection.waitFor(more);
    expect(await view()).toHaveLength(2);
  });

  it('a handler records events in its own transaction: they commit with the view change, roll back with it, and are not written again on redelivery', async () => {
    await deposits('w-1', [2000, 5, 3000]);
    const page = await store.readFeed({ entityTypes: ['Wallet'] });
    const balances = new WalletBalances();
    balances.broken.add(5);
    // Large deposits are recorded as events of another entity, in the handler's transaction.
    balances.onDeposit = async (ctx) => {
      if (ctx.event.amount < 1000) return;
      await store.inTransaction(ctx.db).create({
        entityType: 'LargeDeposit',
        entityId: `${ctx.entityId}-v${ctx.entityVersion}`,
        events: [{ eventType: 'LargeDepositSeen', eventData: { amount: ctx.event.amount } }],
      });
    };
    const projection = postgresProjection(balances, { connectionString: db.connectionString, schema: viewSchema, logger: quiet });
    running.push({ manager: new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore() }), deadLetters }), projection });
    const { runner } = await projection.open(quiet);
    const largeDeposits = async () => (await store.readFeed({ entityTypes: ['LargeDeposit'] })).events.map((e) => e.entityId);
    // The feed shows a commit once no older transaction of the database is still open, and other test
    // files write in the same database: wait until it has the events the store already holds.
    const feedShows = (count: number) => eventually(async () => (await largeDeposits()).length >= count, `${count} LargeDeposit events in the feed`, 10_000);

    // The deposit of 5 fails after the 2000 was recorded: the batch rolls back, event included.
    expect(await runner.runBatch(page.events, page.cursor)).toBe(false);
    expect(await largeDeposits()).toEqual([]);
    expect(await store.listEntities('LargeDeposit')).toMatchObject({ entities: [] });

    balances.broken.clear();
    expect(await runner.runBatch(page.events, page.cursor)).toBe(true);
    expect(await store.listEntities('LargeDeposit')).toMatchObject({ entities: [{ entityId: 'w-1-v2' }, { entityId: 'w-1-v4' }] });
    await feedShows(2);
    expect(await largeDeposits()).toEqual(['w-1-v2', 'w-1-v4']);
    // Delivered again: passed over by version before any handler runs, so nothing is written twice.
    expect(await runner.runBatch(page.events, page.cursor)).toBe(true);
    expect(await store.listEntities('LargeDeposit')).toMatchObject({ entities: [{ entityId: 'w-1-v2' }, { entityId: 'w-1-v4' }] });
    await feedShows(2);
    expect(await largeDeposits()).toEqual(['w-1-v2', 'w-1-v4']);
    expect(await view()).toEqual([{ walletId: 'w-1', balance: 5005, deposits: 3 }]);
  });

  it('a projection whose checkpoint is another store\'s halts, and waitFor says so at once, with the way out', async () => {
    const written = await deposits('w-1', [1]);
    const first = await start();
    await first.projection.waitFor(written);
    await stopAll();
    const foreign = encodeCursor('0123456789abcdef', { transactionId: 1n, position: 1n });
    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET cursor = $1`, [foreign]);

    const { projection, manager } = await start();
    await eventually(() => manager.status()[0].state === 'halted', 'the projection halts on the refused cursor');
    const started = Date.now();
    const waited = projection.waitFor({ entityType: 'Wallet', entityId: 'w-1', entityVersion: 3 }, { timeoutMs: 30_000 });
    await expect(waited).rejects.toBeInstanceOf(ProjectionStoppedError);
    await expect(waited).rejects.toThrow(/projection 'wallet_balances' stopped before it applied version 3 of Wallet\/w-1 \(it has applied version 2 of Wallet\/w-1\): .*eventuate-local projections rebuild wallet_balances/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await projection.checkpoint())?.haltedError).toContain('rebuild it from this store');
  });
});
