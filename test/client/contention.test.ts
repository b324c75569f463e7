import 'reflect-metadata';
import { AggregateRepository, OptimisticLockingError } from '../../client';
import { Account, CreditAccount, OpenAccount } from './domain/banking';
import { openStore, type StoreUnderTest } from './stores';

describe('update under real contention on PostgreSQL', () => {
  let opened: StoreUnderTest;

  beforeAll(async () => {
    opened = await openStore('postgres');
  });
  afterAll(() => opened.close());

  it('ten concurrent updates of one account all succeed in the end and the balance is exact', async () => {
    // One repository per writer, as if ten processes raced.
    const writers = Array.from({ length: 10 }, () => new AggregateRepository(Account, opened.store, { backoff: { baseMs: 2, maxMs: 50 } }));
    const { entityId } = await writers[0].save(new OpenAccount(0, 'ann'));

    const results = await Promise.all(writers.map((accounts, i) => accounts.update(entityId, new CreditAccount(i + 1, `t${i + 1}`))));

    expect(results.map((result) => result.entityVersion).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const { entity, entityVersion } = await writers[0].find(entityId);
    expect(entityVersion).toBe(11);
    expect(entity.balance).toBe(55);
    expect([...entity.transactionIds].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t${i + 1}`).sort());
    const { rows } = await opened.database!.pool.query(
      `SELECT count(*)::int AS events FROM "${opened.database!.schema}".events WHERE entity_id = $1`,
      [entityId],
    );
    expect(rows[0].events).toBe(11);
  });

  it('gives up after maxAttempts and surfaces the last conflict with its versions', async () => {
    const { entityId } = await new AggregateRepository(Account, opened.store).save(new OpenAccount(0, 'ann'));
    const impatient = Array.from({ length: 8 }, () => new AggregateRepository(Account, opened.store, { maxAttempts: 1 }));

    const outcomes = await Promise.allSettled(impatient.map((accounts, i) => accounts.update(entityId, new CreditAccount(1, `t${i}`))));

    const conflicts = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    const succeeded = outcomes.length - conflicts.length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    for (const conflict of conflicts) {
      expect(conflict).toBeInstanceOf(OptimisticLockingError);
      expect(conflict.actualVersion).toBeGreaterThan(conflict.expectedVersion);
      expect(conflict.message).toContain(`is at version ${conflict.actualVersion}, not the expected ${conflict.expectedVersion}`);
      expect(conflict.message).toContain('(gave up after 1 attempt)');
    }
    const { entityVersion, entity } = await new AggregateRepository(Account, opened.store).find(entityId);
    expect(entityVersion).toBe(1 + succeeded);
    expect(entity.balance).toBe(succeeded);
  });
});
