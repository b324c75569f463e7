import 'reflect-metadata';
import {
  AggregateRepository,
  compareCursors,
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  ValidationError,
} from '../../client';
import { Account, CheckBalance, CreditAccount, DebitAccount, InsufficientFundsError, OpenAccount } from './domain/banking';
import { openStore, storeKinds, type StoreUnderTest } from './stores';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeKinds)('AggregateRepository on the %s store', (kind) => {
  let opened: StoreUnderTest;
  let accounts: AggregateRepository<Account>;

  beforeAll(async () => {
    opened = await openStore(kind);
    accounts = new AggregateRepository(Account, opened.store);
  });
  afterAll(() => opened.close());

  it('save creates an entity from the events of its command', async () => {
    const saved = await accounts.save(new OpenAccount(100, 'ann'));
    expect(saved.entityVersion).toBe(1);
    expect(saved.eventIds).toHaveLength(1);
    expect(saved.entity).toBeInstanceOf(Account);
    expect(saved.entity.balance).toBe(100);

    const found = await accounts.find(saved.entityId);
    expect(found).toEqual({ entity: saved.entity, entityId: saved.entityId, entityVersion: 1 });
    expect(found.entity.openedAt).toBeInstanceOf(Date);
  });

  it('save uses the entity id given and refuses one that is taken', async () => {
    const saved = await accounts.save(new OpenAccount(1, 'bob'), { entityId: `acct-${kind}-1` });
    expect(saved.entityId).toBe(`acct-${kind}-1`);
    await expect(accounts.save(new OpenAccount(1, 'bob'), { entityId: `acct-${kind}-1` })).rejects.toBeInstanceOf(
      EntityAlreadyExistsError,
    );
  });

  it('save of a command that produces no events is refused', async () => {
    await expect(accounts.save(new CheckBalance())).rejects.toBeInstanceOf(ValidationError);
  });

  it('update runs the command on the current state and appends its events', async () => {
    const { entityId } = await accounts.save(new OpenAccount(100, 'ann'));
    const debited = await accounts.update(entityId, new DebitAccount(30, 't1'));
    expect(debited.entityVersion).toBe(2);
    expect(debited.entity.balance).toBe(70);
    const credited = await accounts.update(entityId, new CreditAccount(5, 't2'));
    expect(credited.entityVersion).toBe(3);
    expect(credited.eventIds).toHaveLength(1);

    const found = await accounts.find(entityId);
    expect(found.entityVersion).toBe(3);
    expect(found.entity.balance).toBe(75);
    expect(found.entity.transactionIds).toEqual(['t1', 't2']);
  });

  it("save and update answer with the feed cursor of their last event; a write of no events has none", async () => {
    const saved = await accounts.save(new OpenAccount(100, 'ann'));
    const debited = await accounts.update(saved.entityId, new DebitAccount(30, 't1'));
    expect(compareCursors(saved.cursor, debited.cursor)).toBeLessThan(0);
    // The feed read from the save's cursor starts at the debit, at the update's cursor (waiting: other
    // test files' transactions in the same database may hold the feed back a moment).
    const page = await opened.store.readFeed({ after: saved.cursor, entityTypes: ['Account'], waitMs: 10_000 });
    expect(page.events[0]).toMatchObject({ entityId: saved.entityId, entityVersion: 2, cursor: debited.cursor });
    expect((await accounts.update(saved.entityId, new CheckBalance())).cursor).toBeUndefined();
  });

  it('update surfaces the domain error of the command and writes nothing', async () => {
    const { entityId } = await accounts.save(new OpenAccount(10, 'ann'));
    await expect(accounts.update(entityId, new DebitAccount(11, 't1'))).rejects.toBeInstanceOf(InsufficientFundsError);
    expect((await accounts.find(entityId)).entityVersion).toBe(1);
  });

  it('update of an entity that does not exist is EntityNotFoundError', async () => {
    await expect(accounts.update('no-such-account', new CreditAccount(1, 't'))).rejects.toBeInstanceOf(EntityNotFoundError);
    await expect(accounts.find('no-such-account')).rejects.toBeInstanceOf(EntityNotFoundError);
  });

  it('a command that returns no events writes nothing and returns the current version', async () => {
    const { entityId } = await accounts.save(new OpenAccount(10, 'ann'));
    await accounts.update(entityId, new CreditAccount(1, 't1'));
    const unchanged = await accounts.update(entityId, new CheckBalance());
    expect(unchanged.entityVersion).toBe(2);
    expect(unchanged.eventIds).toEqual([]);
    expect(unchanged.entity.balance).toBe(11);

    const history = await opened.store.history('Account', entityId);
    expect(history.entityVersion).toBe(2);
    expect(history.events).toHaveLength(2);
    if (opened.database) {
      const { rows } = await opened.database.pool.query(
        `SELECT (SELECT entity_version FROM "${opened.database.schema}".entities WHERE entity_id = $1) AS version,
                (SELECT count(*)::int FROM "${opened.database.schema}".events WHERE entity_id = $1) AS events`,
        [entityId],
      );
      expect(rows[0]).toEqual({ version: 2, events: 2 });
    }
  });

  it('writes the schema version, caller metadata, correlation and causation ids into each event', async () => {
    const { entityId } = await accounts.save(new OpenAccount(10, 'ann'), {
      metadata: { tenant: 'acme', schemaVersion: 99 },
      correlationId: 'corr-1',
    });
    await accounts.update(entityId, new CreditAccount(1, 't1'), { correlationId: 'corr-1', causationId: 'cause-2' });
    const { events } = await opened.store.history('Account', entityId);
    expect(events.map((event) => event.metadata)).toEqual([
      { tenant: 'acme', schemaVersion: 1, correlationId: 'corr-1' },
      { schemaVersion: 1, correlationId: 'corr-1', causationId: 'cause-2' },
    ]);
    expect(events.map((event) => event.eventType)).toEqual(['AccountOpened', 'AccountCredited']);
    expect(events[0].eventData).toEqual({ initialBalance: 10, owner: 'ann', openedAt: '2024-01-02T03:04:05.678Z' });
  });

  it('an update with a triggering event token already applied is DuplicateTriggeringEventError', async () => {
    const { entityId } = await accounts.save(new OpenAccount(10, 'ann'));
    await accounts.update(entityId, new CreditAccount(1, 't1'), { triggeringEventToken: 'message-1' });
    await accounts.update(entityId, new CreditAccount(1, 't2'), { triggeringEventToken: 'message-2' });
    await expect(
      accounts.update(entityId, new CreditAccount(1, 't1'), { triggeringEventToken: 'message-1' }),
    ).rejects.toBeInstanceOf(DuplicateTriggeringEventError);
    expect((await accounts.find(entityId)).entity.balance).toBe(12);
  });

  it('find toVersion gives the state at that version', async () => {
    const { entityId } = await accounts.save(new OpenAccount(100, 'ann'));
    await accounts.update(entityId, new DebitAccount(30, 't1'));
    await accounts.update(entityId, new DebitAccount(20, 't2'));

    const atOne = await accounts.find(entityId, { toVersion: 1 });
    expect(atOne.entityVersion).toBe(1);
    expect(atOne.entity.balance).toBe(100);
    const atTwo = await accounts.find(entityId, { toVersion: 2 });
    expect(atTwo.entityVersion).toBe(2);
    expect(atTwo.entity.balance).toBe(70);
    expect(atTwo.entity.transactionIds).toEqual(['t1']);
  });

  it('find asOf gives the state at that instant', async () => {
    const { entityId } = await accounts.save(new OpenAccount(100, 'ann'));
    // The pauses only separate the events' timestamps from the instant asked about.
    await pause(20);
    const afterOpening = new Date();
    await pause(20);
    await accounts.update(entityId, new DebitAccount(30, 't1'));

    const then = await accounts.find(entityId, { asOf: afterOpening });
    expect(then.entityVersion).toBe(1);
    expect(then.entity.balance).toBe(100);
    const now = await accounts.find(entityId, { asOf: new Date(Date.now() + 60_000) });
    expect(now.entityVersion).toBe(2);
    expect(now.entity.balance).toBe(70);
  });
});
