import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  InMemoryEventStore,
  SubscriptionManager,
  feedSource,
  fileCursorStore,
  memoryCursorStore,
  memoryDeadLetters,
} from '../../client';
import { InvalidCursorError } from '../../src';
import { eventually } from '../support/kafka-collector';
import { Deposit, Deposited, OpenWallet, Wallet } from './wallet-domain';

const quiet = pino({ level: 'silent' });

@EventSubscriber('feedDeposits', { onFailure: 'dead-letter', maxAttempts: 2, backoff: { baseMs: 1, maxMs: 2 } })
class FeedDeposits {
  readonly amounts: number[] = [];
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    if (ctx.event.amount < 0) throw new Error(`negative deposit ${ctx.event.amount}`);
    this.amounts.push(ctx.event.amount);
  }
}

describe('feedSource without Kafka', () => {
  it('resumes from its durable cursor file after a restart; with onFailure dead-letter a poison event is recorded and its entity goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventuate-feed-'));
    const store = new InMemoryEventStore();
    const wallets = new AggregateRepository(Wallet, store);
    const deadLetters = memoryDeadLetters();
    const source = () => feedSource({ store, cursorStore: fileCursorStore({ dir }), waitMs: 200 });

    await wallets.save(new OpenWallet('eve'), { entityId: 'w' });
    for (const amount of [1, -1, 2]) await wallets.update('w', new Deposit(amount));
    const first = new FeedDeposits();
    const running = new SubscriptionManager({ source: source(), deadLetters, subscribers: [first], logger: quiet });
    await running.start();
    await eventually(() => first.amounts.length === 2, 'the first deposits');
    await running.stop();
    expect(first.amounts).toEqual([1, 2]);
    expect(readFileSync(join(dir, 'feedDeposits.cursor'), 'utf8').trim()).not.toBe('');
    const letters = await deadLetters.list('feedDeposits');
    expect(letters).toEqual([expect.objectContaining({ subscriberId: 'feedDeposits', state: 'failed', parksEntity: false, error: 'negative deposit -1', attempts: 2 })]);
    expect(letters[0].event).toMatchObject({ entityId: 'w', entityVersion: 3, eventType: 'Deposited', eventData: { amount: -1 } });

    await wallets.update('w', new Deposit(3));
    const second = new FeedDeposits();
    const restarted = new SubscriptionManager({ source: source(), deadLetters, subscribers: [second], logger: quiet });
    await restarted.start();
    await eventually(() => second.amounts.length === 1, 'the deposit made while it was stopped');
    await new Promise((r) => setTimeout(r, 300));
    await restarted.stop();
    expect(second.amounts).toEqual([3]);
  });

  it("halts, naming the cause, on a stored cursor the store refuses (another store's) instead of retrying for ever", async () => {
    const elsewhere = new InMemoryEventStore();
    await elsewhere.create({ entityType: 'Wallet', events: [{ eventType: 'Opened', eventData: {} }] });
    const cursors = memoryCursorStore();
    await cursors.save('feedDeposits', (await elsewhere.readFeed()).cursor);
    const halted: Error[] = [];
    const manager = new SubscriptionManager({
      source: feedSource({ store: new InMemoryEventStore(), cursorStore: cursors, waitMs: 100 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [new FeedDeposits()],
      logger: quiet,
      onSubscriberHalted: (_id, error) => halted.push(error),
    });
    await manager.start();
    try {
      await eventually(() => halted.length === 1, 'the subscriber to halt');
      expect(halted[0]).toBeInstanceOf(InvalidCursorError);
      expect(manager.status()[0]).toMatchObject({ error: halted[0] });
    } finally {
      await manager.stop();
    }
  });
});
