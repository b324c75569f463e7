import type { FastifyInstance } from 'fastify';
import { Pool } from 'pg';
import pino from 'pino';
import { HttpEventStore, memoryDeadLetters, PostgresEventStore, type ProjectionContext } from 'eventuate-local-ts/client';
import { buildApp } from 'eventuate-local-ts/server';
import { spawnRelay, type RelayProcess } from '../../test/relay/relay-process';
import { testDatabase, uniqueName, type TestDatabase } from '../../test/support/database';
import { collectTopics, eventually, kafkaBrokers, type KafkaCollector } from '../../test/support/kafka-collector';
import { testKafkaSource } from '../../test/support/test-kafka-source';
import type { Cents } from './account';
import { AccountBalanceProjection } from './account-balance-projection';
import { bankingSubscriptions, type BankingSubscriptions } from './banking-subscriptions';
import { Bank, type OpenedAccount, type TransferOutcome } from './banking-scenario';

const quiet = pino({ level: 'silent' });
const TRANSFERS = 30;
const INITIAL: Array<[string, Cents]> = [
  ['Ann', 300_00],
  ['Bob', 150_00],
  ['Cem', 60_00],
  ['Dee', 10_00],
];

/** A fixed pseudo-random plan, so a failure can be replayed; which debits fail still depends on timing. */
function transferPlan(accounts: OpenedAccount[]): Array<{ from: OpenedAccount; to: OpenedAccount; amount: Cents }> {
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const plan = Array.from({ length: TRANSFERS - 1 }, () => {
    const from = next(accounts.length);
    const to = (from + 1 + next(accounts.length - 1)) % accounts.length;
    return { from: accounts[from], to: accounts[to], amount: (5 + next(36)) * 1_00 };
  });
  // More than all the money there is: certain to fail for funds whenever it runs.
  plan.splice(TRANSFERS / 2, 0, { from: accounts[3], to: accounts[0], amount: 10_000_00 });
  return plan;
}

describe('banking example: the money-transfer saga and the balance projection over Kafka', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let viewPool: Pool;
  let subscriptions: BankingSubscriptions | undefined;
  let collector: KafkaCollector | undefined;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    db = testDatabase('banking');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    app = buildApp({ store, closeStore: false, defaultMetrics: false });
    viewPool = new Pool({ connectionString: db.connectionString, max: 10 });
  });

  afterAll(async () => {
    await subscriptions?.manager.stop();
    await collector?.stop();
    for (const relay of relays) await relay.kill();
    await app.close();
    await store.close();
    if (subscriptions) await viewPool.query(`DROP SCHEMA IF EXISTS "${subscriptions.balances.schema}" CASCADE`);
    await viewPool.end();
    await db.drop();
  });

  jest.setTimeout(90_000);

  it(`${TRANSFERS} concurrent transfers among 4 accounts end exact, with the relay SIGKILLed and everything republished part way`, async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const prefix = `${uniqueName('bank')}.`;
    const relayEnv = { DATABASE_URL: db.connectionString, KAFKA_BROKERS: kafkaBrokers().join(','), EVENTUATE_SCHEMA: db.schema, EVENTUATE_TOPIC_PREFIX: prefix };
    const bank = new Bank(new HttpEventStore({ url }));
    subscriptions = bankingSubscriptions({
      source: testKafkaSource(prefix),
      bank,
      viewPool,
      viewSchema: `${db.schema}_view`,
      deadLetters: memoryDeadLetters(),
      logger: quiet,
    });
    const { balances, view } = subscriptions;
    const handled = countHandlerCalls(balances.projection);
    await subscriptions.manager.start();
    relays.push(spawnRelay(relayEnv));

    const accounts = await Promise.all(INITIAL.map(([owner, balance]) => bank.open(owner, balance)));
    const plan = transferPlan(accounts);
    const startAll = (part: typeof plan) => Promise.all(part.map(async (t) => ({ ...t, transferId: await bank.transfer(t.from, t.to, t.amount) })));

    const firstHalf = await startAll(plan.slice(0, TRANSFERS / 2));
    await eventually(async () => (await finished(bank, firstHalf)) >= 3, 'a few transfers finished before the crash', 40_000);
    await relays[0].kill();
    const finishedAtKill = await finished(bank, firstHalf);
    // The worst a crash can do: Kafka acknowledged everything but the stored cursor is lost, so the
    // restarted relay publishes every event again and every subscriber sees each one twice.
    await db.pool.query(`DELETE FROM "${db.schema}".relay_cursors`);
    const secondHalf = await startAll(plan.slice(TRANSFERS / 2));
    relays.push(spawnRelay(relayEnv));

    const outcomes = await bank.outcomes([...firstHalf, ...secondHalf], 50_000);
    await bank.balancesShown(balances, accounts, 20_000);

    const completed = outcomes.filter((o) => o.state === 'COMPLETED');
    const failed = outcomes.filter((o) => o.state === 'FAILED');
    expect(completed.length + failed.length).toBe(TRANSFERS);
    expect(completed.length).toBeGreaterThan(0);
    expect(failed.find((o) => o.amount === 10_000_00)?.failureReason).toMatch(/^insufficient funds \(\d+\.\d\d < 10000\.00\)$/);
    for (const o of failed) expect(o.failureReason).toMatch(/^insufficient funds/);

    // Each account's balance is its opening balance moved by exactly the completed transfers.
    const aggregates = await Promise.all(accounts.map((a) => bank.accounts.find(a.accountId)));
    const expected = expectedBalances(accounts, completed);
    expect(aggregates.map((a) => a.entity.balance)).toEqual(accounts.map((a) => expected.get(a.accountId)));
    const total = (balances: number[]) => balances.reduce((sum, b) => sum + b, 0);
    expect(total(aggregates.map((a) => a.entity.balance))).toBe(total(INITIAL.map(([, b]) => b)));

    // The projection equals the aggregates (balancesShown waited until it had applied each one's last version), and its
    // histories hold each completed transfer once on each side, failed ones nowhere.
    const rows = await view.accounts();
    expect(rows.map((r) => [r.accountId, r.balance])).toEqual(
      aggregates.map((a) => [a.entityId, a.entity.balance]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    const histories = (await Promise.all(accounts.map((a) => view.transfersOf(a.accountId)))).flat();
    const moves = (transferId: string) => histories.filter((h) => h.transferId === transferId).map((h) => h.amount).sort((x, y) => x - y);
    for (const o of completed) expect(moves(o.transferId)).toEqual([-o.amount, o.amount]);
    for (const o of failed) expect(moves(o.transferId)).toEqual([]);

    // Everything published before the crash was published again: the Account topic holds more messages than there are
    // Account events. The projection's consumer group read every one of them (a group reads all messages after its
    // committed offset, and the copies came at new offsets), yet its handlers ran once per event they handle (one
    // AccountOpened per account, one AccountDebited and one AccountCredited per completed transfer): the runtime passed
    // over each redelivery by the account's applied version before any handler saw it.
    const accountEvents = aggregates.reduce((sum, a) => sum + a.entityVersion, 0);
    collector = await collectTopics([`${prefix}Account`]);
    const distinctIds = () => new Set(collector!.messages.map((m) => m.value.id)).size;
    await eventually(() => distinctIds() === accountEvents, `all ${accountEvents} Account events read back from the topic`);
    const redelivered = collector.messages.length - accountEvents;
    expect(redelivered).toBeGreaterThan(0);
    expect([...handled.values()].filter((calls) => calls > 1)).toEqual([]);
    expect(handled.size).toBe(accounts.length + 2 * completed.length);
    console.log(
      `${completed.length} transfers completed, ${failed.length} failed for funds; relay SIGKILLed with ${finishedAtKill} finished ` +
        `and rewound to the start; ${redelivered} Account events delivered again, none reached a handler`,
    );
  });
});

/** Handler calls per event id, counted by wrapping the instance's handler methods (the runtime calls them by name). */
function countHandlerCalls(projection: AccountBalanceProjection): Map<string, number> {
  const calls = new Map<string, number>();
  const handlers = Object.getOwnPropertyNames(AccountBalanceProjection.prototype).filter((name) => name !== 'constructor' && name !== 'createTables');
  const methods = projection as unknown as Record<string, (ctx: ProjectionContext) => Promise<void>>;
  for (const name of handlers) {
    const handler = methods[name].bind(projection);
    methods[name] = (ctx) => {
      calls.set(ctx.eventId, (calls.get(ctx.eventId) ?? 0) + 1);
      return handler(ctx);
    };
  }
  return calls;
}

async function finished(bank: Bank, started: Array<{ transferId: string }>): Promise<number> {
  const states = await Promise.all(started.map(async ({ transferId }) => (await bank.transfers.find(transferId)).entity.state));
  return states.filter((s) => s === 'COMPLETED' || s === 'FAILED').length;
}

function expectedBalances(accounts: OpenedAccount[], completed: TransferOutcome[]): Map<string, Cents> {
  const balances = new Map(accounts.map((a, i) => [a.accountId, INITIAL[i][1]]));
  for (const { from, to, amount } of completed) {
    balances.set(from.accountId, balances.get(from.accountId)! - amount);
    balances.set(to.accountId, balances.get(to.accountId)! + amount);
  }
  return balances;
}
