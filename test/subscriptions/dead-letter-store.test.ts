import { memoryDeadLetters, postgresDeadLetters, type DeadLetterStore, type NewDeadLetter } from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';

/** One contract, both stores: what the settler and the CLI rely on. */
const event = (entityId: string, entityVersion: number, amount = entityVersion) => ({
  eventId: `event-${entityId}-${entityVersion}`,
  entityType: 'Wallet',
  entityId,
  entityVersion,
  eventType: 'Deposited',
  eventData: { zeta: amount, alpha: 'ünïcode ✓', nested: { b: [1, 2.5, null], a: true } },
  metadata: {},
  createdAt: '2026-11-22T02:49:14.325Z',
  cursor: `c${entityVersion}`,
});

function failed(subscriberId: string, entityId: string, version: number, parksEntity = true): NewDeadLetter {
  const e = event(entityId, version);
  return {
    subscriberId,
    id: e.eventId,
    entityKey: `Wallet/${entityId}`,
    entityVersion: version,
    state: 'failed',
    parksEntity,
    event: e,
    origin: { source: 'feed', cursor: e.cursor },
    error: 'amount 13 is unlucky',
    attempts: 3,
    failedAt: '2026-11-22T02:50:00.000Z',
  };
}

function parked(subscriberId: string, entityId: string, version: number): NewDeadLetter {
  const { error: _error, failedAt: _failedAt, ...letter } = failed(subscriberId, entityId, version);
  return { ...letter, state: 'parked', attempts: 0 };
}

describe.each([
  ['memoryDeadLetters', async () => ({ store: memoryDeadLetters(), done: async () => undefined })],
  [
    'postgresDeadLetters',
    async () => {
      const db: TestDatabase = testDatabase('dls');
      const store = postgresDeadLetters({ connectionString: db.connectionString, schema: db.schema });
      return { store, done: async () => (await store.close?.(), await db.drop()) };
    },
  ],
])('%s', (_name, open) => {
  let store: DeadLetterStore;
  let done: () => Promise<void>;
  let n = 0;
  let sub: string;

  beforeAll(async () => ({ store, done } = await open()));
  afterAll(() => done());
  beforeEach(() => void (sub = `subscriber${++n}`));

  it('records a letter once (a redelivery changes nothing) and finds it with every field', async () => {
    const letter = failed(sub, 'w1', 2);
    expect(await store.record(letter)).toBe(true);
    expect(await store.record({ ...letter, error: 'again', attempts: 9 })).toBe(false);
    const found = await store.find(sub, letter.id);
    expect(found).toEqual({ ...letter, sequence: expect.any(Number), recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(await store.find(sub, 'nope')).toBeUndefined();
    expect(await store.find('another', letter.id)).toBeUndefined();
  });

  it('keeps a message that is not an event as its text', async () => {
    const letter: NewDeadLetter = {
      subscriberId: sub,
      id: 'p.Wallet/0@17',
      entityKey: 'Wallet/w9',
      state: 'failed',
      parksEntity: true,
      unreadable: 'not json {',
      origin: { source: 'kafka', topic: 'p.Wallet', partition: 0, offset: '17' },
      error: 'UnreadableMessageError: not an event',
      attempts: 0,
      failedAt: '2026-11-22T02:50:00.000Z',
    };
    await store.record(letter);
    expect(await store.find(sub, letter.id)).toEqual({ ...letter, sequence: expect.any(Number), recordedAt: expect.any(String) });
    // No handler can take it: a retry is never marked for it.
    expect(await store.requestRetry(sub, [letter.id])).toEqual([]);
    expect(await store.requestRetry(sub, 'all')).toEqual([]);
  });

  it('lists in recording order, by entity and by whether they park it; counts them', async () => {
    await store.record(failed(sub, 'w1', 2));
    await store.record(failed(sub, 'w2', 5, false));
    await store.record(parked(sub, 'w1', 3));
    await store.record(parked(sub, 'w1', 4));
    expect((await store.list(sub)).map((l) => `${l.entityKey}@${l.entityVersion}:${l.state}`)).toEqual([
      'Wallet/w1@2:failed',
      'Wallet/w2@5:failed',
      'Wallet/w1@3:parked',
      'Wallet/w1@4:parked',
    ]);
    expect((await store.list(sub, { entityKey: 'Wallet/w1', parksEntity: true, limit: 1 })).map((l) => l.entityVersion)).toEqual([2]);
    expect((await store.list(sub, { parksEntity: false })).map((l) => l.entityVersion)).toEqual([5]);
    expect(await store.parkedEntities(sub)).toEqual(['Wallet/w1']);
    expect(await store.counts(sub)).toEqual({ failed: 2, parked: 2, parkedEntities: 1 });
    expect(await store.counts('nobody')).toEqual({ failed: 0, parked: 0, parkedEntities: 0 });
  });

  it('retry requests: marked on failed letters only, claimed by exactly one taker, pending until claimed', async () => {
    const head = failed(sub, 'w1', 2);
    const other = failed(sub, 'w2', 7, false);
    await store.record(head);
    await store.record(parked(sub, 'w1', 3));
    await store.record(other);
    expect(await store.pending(sub)).toEqual([]);
    expect(await store.requestRetry(sub, [parked(sub, 'w1', 3).id])).toEqual([]);
    expect(await store.requestRetry(sub, 'all')).toEqual([head.id, other.id]);
    expect((await store.pending(sub)).map((l) => l.id)).toEqual([head.id, other.id]);
    expect((await store.find(sub, head.id))?.retryRequestedAt).toEqual(expect.any(String));
    const claims = await Promise.all([store.claimRetry(sub, head.id), store.claimRetry(sub, head.id), store.claimRetry(sub, head.id)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await store.pending(sub)).map((l) => l.id)).toEqual([other.id]);
  });

  it('a parked letter becomes pending when no letter parking its entity is before it (the failed one was discarded)', async () => {
    const head = failed(sub, 'w1', 2);
    await store.record(head);
    await store.record(parked(sub, 'w1', 3));
    await store.record(parked(sub, 'w1', 4));
    expect(await store.remove(sub, head.id)).toBe(true);
    expect(await store.remove(sub, head.id)).toBe(false);
    expect((await store.pending(sub)).map((l) => l.entityVersion)).toEqual([3]);
  });

  it('a failed retry makes a parked letter failed and adds the attempts', async () => {
    const waiting = parked(sub, 'w1', 3);
    await store.record(waiting);
    await store.recordFailure(sub, waiting.id, { error: 'still broken', attempts: 2, at: '2026-11-22T03:00:00.000Z' });
    await store.recordFailure(sub, waiting.id, { error: 'broken again', attempts: 3, at: '2026-11-22T03:01:00.000Z' });
    expect(await store.find(sub, waiting.id)).toMatchObject({ state: 'failed', error: 'broken again', attempts: 5, failedAt: '2026-11-22T03:01:00.000Z' });
    expect(await store.counts(sub)).toEqual({ failed: 1, parked: 0, parkedEntities: 1 });
  });
});
