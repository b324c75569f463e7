/**
 * Run by feed-source-choices.test.ts with its working directory set to an empty temporary one: a
 * feedSource subscriber with memoryCursorStore() and memoryDeadLetters() handles an event, dead-letters
 * another and stops. Prints one JSON line with what happened; the test then looks for files.
 */
import pino from 'pino';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  InMemoryEventStore,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
} from '../../client';
import { eventually } from '../support/kafka-collector';
import { Deposit, Deposited, OpenWallet, Wallet } from './wallet-domain';

@EventSubscriber('inMemoryDeposits', { maxAttempts: 1 })
class InMemoryDeposits {
  readonly amounts: number[] = [];
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    if (ctx.event.amount < 0) throw new Error('negative deposit');
    this.amounts.push(ctx.event.amount);
  }
}

async function main() {
  const store = new InMemoryEventStore();
  const wallets = new AggregateRepository(Wallet, store);
  await wallets.save(new OpenWallet('eve'), { entityId: 'w' });
  for (const amount of [5, -1]) await wallets.update('w', new Deposit(amount));
  const cursors = memoryCursorStore();
  const deadLetters = memoryDeadLetters();
  const subscriber = new InMemoryDeposits();
  const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: cursors, waitMs: 100 }), deadLetters, subscribers: [subscriber], logger: pino({ level: 'silent' }) });
  await manager.start();
  await eventually(async () => subscriber.amounts.length === 1 && (await deadLetters.list('inMemoryDeposits')).length === 1, 'one deposit handled, one dead-lettered', 20_000);
  await manager.stop();
  console.log(JSON.stringify({ cwd: process.cwd(), amounts: subscriber.amounts, deadLetters: (await deadLetters.list('inMemoryDeposits')).length, cursor: await cursors.load('inMemoryDeposits') }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
