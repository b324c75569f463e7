import 'reflect-metadata';
import { AggregateRepository, OptimisticLockingError, type EventStore } from '../../client';
import { Account, CreditAccount, OpenAccount } from './domain/banking';
import { openStore, type StoreUnderTest } from './stores';

/**
 * The real store, except that the first `readers` loads are held until all of them were issued,
 * so every writer certainly starts from the same version; counts the conflicts the store reports.
 */
function raceFromOneVersion(store: EventStore, readers: number) {
  let waiting = 0;
  let release!: () => void;
  const allIssued = new Promise<void>((resolve) => (release = resolve));
  const counts = { conflicts: 0 };
  const racing = new Proxy(store, {
    get(target, property) {
      if (property === 'load') {
        return async (...args: Parameters<EventStore['load']>) => {
          const loaded = await target.load(...args);
          if (waiting < readers) {
            if (++waiting === readers) release();
            await allIssued;
          }
          return loaded;
        };
      }
      if (property === 'append') {
        return async (...args: Parameters<EventStore['append']>) => {
          try {
            return await target.append(...args);
          } catch (error) {
            if (error instanceof OptimisticLockingError) counts.conflicts++;
            throw error;
          }
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: racing, counts };
}

describe('update under real contention on PostgreSQL', () => {
  let opened: StoreUnderTest;

  beforeAll(async () => {
    opened = await openStore('postgres');
  });
  afterAll(() => opened.close());

  it('ten concurrent updates of one account all succeed in the end and the balance is exact', async () => {
    const { entityId } = await new AggregateRepository(Account, opened.store).save(new OpenAccount(0, 'ann'));
    const race = raceFromOneVersion(opened.store, 10);
    // One repository per writer, as if ten processes raced.
    const writers = Array.from({ length: 10 }, () => new AggregateRepository(Account, race.store, { backoff: { baseMs: 2, maxMs: 50 } }));

    const results = await Promise.all(writers.map((accounts, i) => accounts.update(entityId, new CreditAccount(i + 1, `t${i + 1}`))));

    // All ten read version 1, so nine lost the first round and had to re-read and retry.
    expect(race.counts.conflicts).toBeGreaterThanOrEqual(9);
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
    const race = raceFromOneVersion(opened.store, 8);
    const impatient = Array.from({ length: 8 }, () => new AggregateRepository(Account, race.store, { maxAttempts: 1 }));

    const outcomes = await Promise.allSettled(impatient.map((accounts, i) => accounts.update(entityId, new CreditAccount(1, `t${i}`))));

    const conflicts = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    const succeeded = outcomes.length - conflicts.length;
    expect(succeeded).toBe(1);
    expect(conflicts).toHaveLength(7);
    for (const conflict of conflicts) {
      expect(conflict).toBeInstanceOf(OptimisticLockingError);
      expect(conflict.expectedVersion).toBe(1);
      expect(conflict.actualVersion).toBe(2);
      expect(conflict.message).toContain('is at version 2, not the expected 1');
      expect(conflict.message).toContain('(gave up after 1 attempt)');
    }
    const { entityVersion, entity } = await new AggregateRepository(Account, opened.store).find(entityId);
    expect(entityVersion).toBe(1 + succeeded);
    expect(entity.balance).toBe(succeeded);
  });
});
