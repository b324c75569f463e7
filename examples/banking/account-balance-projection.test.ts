import pino from 'pino';
import {
  AggregateRepository,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  PostgresEventStore,
  postgresProjection,
  SubscriptionManager,
  type PostgresProjection,
} from 'eventuate-local-ts/client';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { Account, CreditAccount, DebitAccount, OpenAccount } from './account';
import { AccountBalanceProjection } from './account-balance-projection';
import { AccountBalanceView } from './account-balance-view';

describe('AccountBalanceProjection and its view', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let manager: SubscriptionManager;
  let balances: PostgresProjection<AccountBalanceProjection>;
  const deadLetters = memoryDeadLetters();

  beforeAll(async () => {
    db = testDatabase('bankview');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    balances = postgresProjection(new AccountBalanceProjection(), { connectionString: db.connectionString, schema: `${db.schema}_view` });
    manager = new SubscriptionManager({
      // The cursorStore serves plain subscribers; the projection keeps its position with its tables.
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters,
      subscribers: [balances],
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop();
    await balances.close();
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${balances.schema}" CASCADE`);
    await db.drop();
  });

  it("keeps each account's balance and the transfers that moved it, oldest first; a refused debit moves nothing", async () => {
    const accounts = new AggregateRepository(Account, store);
    const { entityId: ann } = await accounts.save(new OpenAccount('Ann', 100_00), { entityId: 'acc-ann' });
    const { entityId: bob } = await accounts.save(new OpenAccount('Bob', 0), { entityId: 'acc-bob' });
    await accounts.update(ann, new DebitAccount(30_00, 't-1'));
    const refused = await accounts.update(ann, new DebitAccount(500_00, 't-2')); // AccountDebitFailedDueToInsufficientFunds, no handler
    const credited = await accounts.update(bob, new CreditAccount(30_00, 't-1'));
    const last = await accounts.update(ann, new CreditAccount(5_00, 't-3'));
    expect(refused.entityVersion).toBe(3);

    await balances.waitFor(last, { timeoutMs: 20_000 });
    await balances.waitFor(credited, { timeoutMs: 20_000 });
    const view = new AccountBalanceView(db.pool, balances.schema);
    expect(await view.accounts()).toEqual([
      { accountId: 'acc-ann', owner: 'Ann', balance: 75_00 },
      { accountId: 'acc-bob', owner: 'Bob', balance: 30_00 },
    ]);
    expect(await view.transfersOf(ann)).toEqual([
      { accountId: 'acc-ann', transferId: 't-1', amount: -30_00 },
      { accountId: 'acc-ann', transferId: 't-3', amount: 5_00 },
    ]);
    expect(await view.transfersOf(bob)).toEqual([{ accountId: 'acc-bob', transferId: 't-1', amount: 30_00 }]);
    expect(await deadLetters.list('account_balances')).toEqual([]);
  });
});
