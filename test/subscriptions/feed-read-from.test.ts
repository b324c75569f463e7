import pino from 'pino';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  InMemoryEventStore,
  SubscriptionManager,
  endOfFeed,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  type CursorStore,
  type ReadFrom,
} from '../../client';
import { eventually } from '../support/kafka-collector';
import { Deposit, Deposited, OpenWallet, Wallet, WalletOpened } from './wallet-domain';

const quiet = pino({ level: 'silent' });

/** A subscriber class recording what it was given, `entityId@version` in delivery order. */
function recordingSubscriber(subscriberId: string, readFrom?: ReadFrom) {
  @EventSubscriber(subscriberId, { readFrom })
  class Recording {
    readonly seen: string[] = [];
    @EventHandlerMethod(WalletOpened)
    opened(ctx: EventHandlerContext<WalletOpened>) {
      this.seen.push(`${ctx.entityId}@${ctx.entityVersion}`);
    }
    @EventHandlerMethod(Deposited)
    deposited(ctx: EventHandlerContext<Deposited>) {
      this.seen.push(`${ctx.entityId}@${ctx.entityVersion}`);
    }
  }
  return Recording;
}

const FeedFromBeginning = recordingSubscriber('feedFromBeginning');
const FeedFromEnd = recordingSubscriber('feedFromEnd', 'end');

describe('feedSource: where a new subscriber starts (readFrom)', () => {
  let store: InMemoryEventStore;
  let wallets: AggregateRepository<Wallet>;
  const managers: SubscriptionManager[] = [];
  const run = async (subscriber: object, cursorStore: CursorStore) => {
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore, waitMs: 200 }), deadLetters: memoryDeadLetters(), subscribers: [subscriber], logger: quiet });
    managers.push(manager);
    await manager.start();
    return manager;
  };

  beforeEach(async () => {
    store = new InMemoryEventStore();
    wallets = new AggregateRepository(Wallet, store);
    await wallets.save(new OpenWallet('old'), { entityId: 'old' });
    await wallets.update('old', new Deposit(1));
  });

  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop();
  });

  it("'beginning' (the default) gets every event already written, then the new ones", async () => {
    const subscriber = new FeedFromBeginning();
    await run(subscriber, memoryCursorStore());
    await wallets.update('old', new Deposit(2));
    await eventually(() => subscriber.seen.length === 3, 'three deliveries');
    expect(subscriber.seen).toEqual(['old@1', 'old@2', 'old@3']);
  });

  it("'end' skips the events written before it started and gets those written after", async () => {
    const subscriber = new FeedFromEnd();
    await run(subscriber, memoryCursorStore());
    await wallets.update('old', new Deposit(2));
    await wallets.save(new OpenWallet('new'), { entityId: 'new' });
    await eventually(() => subscriber.seen.length >= 2, 'the two new events');
    await new Promise((r) => setTimeout(r, 300)); // an old event delivered late would show up now
    expect(subscriber.seen).toEqual(['old@3', 'new@1']);
  });

  it("'end' saves where it started: restarted before any event arrived, it still gets what was written while it was stopped", async () => {
    const cursors = memoryCursorStore();
    const first = await run(new FeedFromEnd(), cursors);
    await first.stop();
    expect(await cursors.load('feedFromEnd')).toBeDefined();

    await wallets.update('old', new Deposit(2));
    const restarted = new FeedFromEnd();
    await run(restarted, cursors);
    await wallets.update('old', new Deposit(3));
    await eventually(() => restarted.seen.length >= 2, 'the event written while stopped and the one after');
    await new Promise((r) => setTimeout(r, 300));
    expect(restarted.seen).toEqual(['old@3', 'old@4']);
  });

  it("a stored cursor wins over readFrom: 'end' resumes from it, 'beginning' does not start over", async () => {
    const afterFirst = (await store.readFeed({ limit: 1 })).cursor;
    await wallets.update('old', new Deposit(2));
    const fromEnd = new FeedFromEnd();
    const fromBeginning = new FeedFromBeginning();
    const cursors = memoryCursorStore();
    await cursors.save('feedFromEnd', afterFirst);
    await cursors.save('feedFromBeginning', afterFirst);
    await run(fromEnd, cursors);
    await run(fromBeginning, cursors);
    await eventually(() => fromEnd.seen.length >= 2 && fromBeginning.seen.length >= 2, 'the events after the stored cursor');
    await new Promise((r) => setTimeout(r, 300));
    expect(fromEnd.seen).toEqual(['old@2', 'old@3']);
    expect(fromBeginning.seen).toEqual(['old@2', 'old@3']);
  });
});

describe('endOfFeed', () => {
  it('is the end of the whole feed (more than a page), past the events a type filter leaves out', async () => {
    const store = new InMemoryEventStore();
    const wallets = new AggregateRepository(Wallet, store);
    await wallets.save(new OpenWallet('w'), { entityId: 'w' });
    // More than one page (1000) of Wallet events, then an event of another type at the very end.
    const deposits = Array.from({ length: 750 }, () => ({ eventType: 'Deposited', eventData: { amount: 1 } }));
    await store.append({ entityType: 'Wallet', entityId: 'w', expectedVersion: 1, events: deposits });
    await store.append({ entityType: 'Wallet', entityId: 'w', expectedVersion: 751, events: deposits });
    await store.create({ entityType: 'Other', entityId: 'o', events: [{ eventType: 'Happened', eventData: {} }] });

    const end = await endOfFeed(store, { entityTypes: ['Wallet'] });
    expect(await store.readFeed({ after: end })).toEqual({ events: [], cursor: end });
    await wallets.update('w', new Deposit(7));
    const next = await store.readFeed({ after: end, entityTypes: ['Wallet'] });
    expect(next.events.map((e) => e.entityVersion)).toEqual([1502]);
  });
});
