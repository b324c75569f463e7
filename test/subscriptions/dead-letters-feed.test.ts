import pino from 'pino';
import { Registry } from 'prom-client';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  SubscriberHaltedError,
  SubscriptionManager,
  feedSource,
  postgresCursorStore,
  postgresDeadLetters,
  type CursorStore,
  type DeadLetterStore,
} from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { balanceOf, balanceViewClass, createBalanceTable } from './balance-view';
import { Deposit, Deposited, OpenWallet, Wallet } from './wallet-domain';

const quiet = pino({ level: 'silent' });
const FeedBalanceView = balanceViewClass('feedBalanceView');

/** Fails on amount 666 (once stop-c's deposit is handled); records what it handled of the wallets named stop-*. */
@EventSubscriber('stoppingView', { onFailure: 'stop', maxAttempts: 2, backoff: { baseMs: 200, maxMs: 200 } })
class StoppingView {
  readonly handled: string[] = [];
  constructor(private readonly failOn666: boolean) {}

  @EventHandlerMethod(Deposited)
  async deposited(ctx: EventHandlerContext<Deposited>) {
    if (this.failOn666 && ctx.event.amount === 666) {
      // Fails only once stop-c's deposit, later in the page, is done: the prefix must still end before this event.
      await eventually(() => this.handled.includes('stop-c@2'), "stop-c's deposit is handled first");
      throw new Error('666 is refused');
    }
    if (ctx.entityId.startsWith('stop-')) this.handled.push(`${ctx.entityId}@${ctx.entityVersion}`);
  }
}

describe('dead letters of a feed subscriber, in PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let wallets: AggregateRepository<Wallet>;
  let deadLetters: DeadLetterStore;
  let cursors: CursorStore;
  let table: string;
  const managers: SubscriptionManager[] = [];
  const run = async (subscriber: object, options: { onSubscriberHalted?: (id: string, error: Error) => void } = {}) => {
    const manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: cursors, waitMs: 200 }),
      deadLetters,
      deadLetterPollMs: 200,
      subscribers: [subscriber],
      logger: quiet,
      ...options,
    });
    managers.push(manager);
    await manager.start();
    return manager;
  };
  const deposits = async (wallet: string, amounts: number[]) => {
    await wallets.save(new OpenWallet(wallet), { entityId: wallet });
    for (const amount of amounts) await wallets.update(wallet, new Deposit(amount));
  };
  const balance = (wallet: string) => balanceOf(db.pool, table, wallet);

  beforeAll(async () => {
    db = testDatabase('dlfeed');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 6 });
    wallets = new AggregateRepository(Wallet, store);
    deadLetters = postgresDeadLetters({ connectionString: db.connectionString, schema: db.schema });
    cursors = postgresCursorStore({ connectionString: db.connectionString, schema: db.schema });
    table = `"${db.schema}".balances`;
    await createBalanceTable(db.pool, table);
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await deadLetters.close?.();
    await cursors.close?.();
    await store.close();
    await db.drop();
  });

  it('parks a poison event’s entity (other entities go on), keeps it parked across a restart, and a retry after the fix ends the view exact', async () => {
    await deposits('poisoned', [1, 13, 2, 3]);
    await deposits('healthy', [10, 20]);
    const view = new FeedBalanceView(db.pool, table);
    let manager = await run(view);
    await eventually(async () => (await balance('healthy'))?.version === 3 && manager.status()[0].deadLetters.parked === 2, 'the healthy wallet done, two events parked');
    expect(await balance('healthy')).toEqual({ balance: 30, version: 3 });
    expect(await balance('poisoned')).toEqual({ balance: 1, version: 2 });
    expect(manager.status()[0].deadLetters).toEqual({ failed: 1, parked: 2, parkedEntities: 1 });

    const listed = await manager.deadLetters('feedBalanceView').list();
    expect(listed.map((l) => [l.entityKey, l.entityVersion, l.state, l.parksEntity, l.attempts, l.error])).toEqual([
      ['Wallet/poisoned', 3, 'failed', true, 2, 'amount 13 is unlucky'],
      ['Wallet/poisoned', 4, 'parked', true, 0, undefined],
      ['Wallet/poisoned', 5, 'parked', true, 0, undefined],
    ]);
    expect(listed[0]).toMatchObject({ event: { eventType: 'Deposited', eventData: { amount: 13 } }, origin: { source: 'feed', cursor: expect.any(String) } });
    const metrics = new Registry();
    manager.registerMetrics(metrics);
    const scraped = await metrics.metrics();
    expect(scraped).toContain('eventuate_subscriber_dead_letters{subscriber="feedBalanceView"} 1');
    expect(scraped).toContain('eventuate_subscriber_parked_events{subscriber="feedBalanceView"} 2');
    expect(scraped).toContain('eventuate_subscriber_parked_entities{subscriber="feedBalanceView"} 1');
    // The position moved past the parked events: they are recorded, not left behind.
    expect(await cursors.load('feedBalanceView')).toBe((await store.readFeed({ limit: 1000, entityTypes: ['Wallet'] })).cursor);

    await manager.stop();
    await wallets.update('poisoned', new Deposit(4));
    const restartedView = new FeedBalanceView(db.pool, table);
    manager = await run(restartedView);
    await eventually(async () => (await deadLetters.counts('feedBalanceView')).parked === 3, 'the deposit made while stopped is parked too');
    expect(await balance('poisoned')).toEqual({ balance: 1, version: 2 });

    restartedView.broken.clear(); // the fix is deployed
    // #region retry
    const letters = manager.deadLetters('feedBalanceView');
    const [failed] = await letters.list(); // oldest first: the failed event, then those parked behind it
    await letters.retry(failed.id); // handled now, and the parked events after it, in order
    // #endregion
    expect(failed.id).toBe(listed[0].id);
    expect(await balance('poisoned')).toEqual({ balance: 1 + 13 + 2 + 3 + 4, version: 6 });
    expect(await manager.deadLetters('feedBalanceView').list()).toEqual([]);
    expect(manager.status()[0].deadLetters).toEqual({ failed: 0, parked: 0, parkedEntities: 0 });

    await wallets.update('poisoned', new Deposit(5));
    await eventually(async () => (await balance('poisoned'))?.version === 7, 'the next deposit, handled as it comes');
    expect(await balance('poisoned')).toEqual({ balance: 28, version: 7 });
    await manager.stop();
  });

  it('a discarded poison event is never applied; the events parked behind it are, in order', async () => {
    await deposits('discarded', [13, 7, 8]);
    const view = new FeedBalanceView(db.pool, table);
    const manager = await run(view);
    await eventually(async () => (await deadLetters.counts('feedBalanceView')).parked === 2, 'two deposits parked behind the poison one');
    const [poison] = await manager.deadLetters('feedBalanceView').list();
    expect(await manager.deadLetters('feedBalanceView').discard(poison.id)).toMatchObject({ id: poison.id, entityVersion: 2 });
    expect(await balance('discarded')).toEqual({ balance: 15, version: 4 });
    expect(await manager.deadLetters('feedBalanceView').list()).toEqual([]);
    await manager.stop();
  });

  it("onFailure 'stop' halts at the failed event and saves only the finished prefix: a restart delivers it and everything after it again", async () => {
    // Three entities in one page; stop-b's event fails once stop-c's, after it, has finished.
    await wallets.save(new OpenWallet('a'), { entityId: 'stop-a' });
    await wallets.save(new OpenWallet('b'), { entityId: 'stop-b' });
    await wallets.save(new OpenWallet('c'), { entityId: 'stop-c' });
    await wallets.update('stop-a', new Deposit(1));
    await wallets.update('stop-b', new Deposit(666));
    await wallets.update('stop-c', new Deposit(2));
    const halted: Error[] = [];
    const first = new StoppingView(true);
    const manager = await run(first, { onSubscriberHalted: (_id, error) => void halted.push(error) });
    await eventually(() => halted.length === 1, 'the subscriber halts');
    expect(halted[0]).toBeInstanceOf(SubscriberHaltedError);
    expect(halted[0].message).toMatch(/^subscriber stoppingView stopped: its handler failed for event [0-9a-f-]{36}: 666 is refused$/);
    expect(first.handled).toEqual(['stop-a@2', 'stop-c@2']);
    expect(manager.status()[0]).toMatchObject({ running: false, error: halted[0] });
    expect(await deadLetters.list('stoppingView')).toEqual([]);

    const second = new StoppingView(false);
    await run(second);
    await eventually(() => second.handled.length === 2, 'the failed event and the one after it, again');
    await new Promise((r) => setTimeout(r, 500));
    expect(second.handled).toEqual(['stop-b@2', 'stop-c@2']);
  });
});
