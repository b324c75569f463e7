import pino from 'pino';
import {
  DeadLetterRequestError,
  DeadLetterStoreError,
  EventSettler,
  SubscriberDeadLetters,
  SubscriberHaltedError,
  memoryDeadLetters,
  type DeadLetterStore,
  type EventRunner,
  type FailurePolicy,
} from '../../client';
import type { StoredEvent } from '../../src/model';

const quiet = pino({ level: 'silent' });

let position = 0;
function deposit(entityId: string, entityVersion: number, amount = entityVersion): StoredEvent {
  return {
    eventId: `${entityId}-v${entityVersion}`,
    entityType: 'Wallet',
    entityId,
    entityVersion,
    eventType: 'Deposited',
    eventData: { amount },
    metadata: {},
    createdAt: new Date().toISOString(),
    cursor: `c${++position}`,
  };
}

/**
 * A runner as a projection would have one: it applies an entity's events strictly in version order
 * (a gap or a repeat is an error) and fails for the amounts in `broken`. No Kafka, no feed: the
 * settler does not care how a handler runs.
 */
class StrictView implements EventRunner {
  readonly broken = new Set<number>();
  readonly applied: string[] = [];
  private readonly versions = new Map<string, number>();

  async dispatch(event: StoredEvent) {
    const amount = event.eventData.amount as number;
    if (this.broken.has(amount)) return { kind: 'failed' as const, error: new Error(`amount ${amount} is unlucky`), attempts: 3 };
    const expected = (this.versions.get(event.entityId) ?? 0) + 1;
    if (event.entityVersion !== expected) throw new Error(`out of order: ${event.entityId} v${event.entityVersion} after v${expected - 1}`);
    this.versions.set(event.entityId, event.entityVersion);
    this.applied.push(`${event.entityId}@${event.entityVersion}`);
    return { kind: 'handled' as const };
  }
}

describe('EventSettler: what becomes of an event after its handler’s attempts', () => {
  const settlers: EventSettler[] = [];
  const signal = new AbortController().signal;
  const open = async (policy: FailurePolicy, view: EventRunner, store: DeadLetterStore = memoryDeadLetters(), options = {}) => {
    const settler = new EventSettler({ subscriberId: 'view', policy, runner: view, store, logger: quiet, pollMs: 60_000, ...options });
    await settler.open();
    settlers.push(settler);
    return { settler, store, letters: new SubscriberDeadLetters(store, 'view', settler) };
  };
  const settle = (settler: EventSettler, event: StoredEvent) => settler.settle({ event, origin: { source: 'feed', cursor: event.cursor } }, signal);
  const kinds = async (settler: EventSettler, events: StoredEvent[]) => {
    const out: string[] = [];
    for (const event of events) out.push((await settle(settler, event)).kind);
    return out;
  };

  afterEach(async () => {
    for (const settler of settlers.splice(0)) await settler.close();
  });

  it("'park': the failed event is dead-lettered, its entity's later events park in order, other entities go on; a retry after the fix releases them in order", async () => {
    const view = new StrictView();
    view.broken.add(13);
    const { settler, letters } = await open('park', view);
    const a = [deposit('a', 1), deposit('a', 2, 13), deposit('a', 3), deposit('a', 4)];
    const b = [deposit('b', 1), deposit('b', 2)];
    expect(await kinds(settler, [a[0], a[1], b[0], a[2], b[1], a[3]])).toEqual(['handled', 'dead-lettered', 'handled', 'parked', 'handled', 'parked']);
    expect(view.applied).toEqual(['a@1', 'b@1', 'b@2']);
    expect(settler.counts()).toEqual({ failed: 1, parked: 2, parkedEntities: 1 });
    const listed = await letters.list();
    expect(listed.map((l) => [l.id, l.state, l.attempts, l.error])).toEqual([
      ['a-v2', 'failed', 3, 'amount 13 is unlucky'],
      ['a-v3', 'parked', 0, undefined],
      ['a-v4', 'parked', 0, undefined],
    ]);

    // Retried before the fix: it fails again, and nothing behind it moves.
    await letters.retry('a-v2');
    expect(view.applied).toEqual(['a@1', 'b@1', 'b@2']);
    expect(await letters.list()).toEqual([expect.objectContaining({ id: 'a-v2', state: 'failed', attempts: 6 }), expect.anything(), expect.anything()]);

    view.broken.clear();
    await letters.retry('a-v2');
    expect(view.applied).toEqual(['a@1', 'b@1', 'b@2', 'a@2', 'a@3', 'a@4']);
    expect(await letters.list()).toEqual([]);
    expect(settler.counts()).toEqual({ failed: 0, parked: 0, parkedEntities: 0 });
    // Released: the entity's next event is handled as it comes.
    expect(await kinds(settler, [deposit('a', 5)])).toEqual(['handled']);
  });

  it('a parked event that fails when released becomes the failed one; the events behind it stay parked', async () => {
    const view = new StrictView();
    view.broken.add(13).add(14);
    const { settler, letters } = await open('park', view);
    await kinds(settler, [deposit('a', 1, 13), deposit('a', 2, 14), deposit('a', 3)]);
    view.broken.delete(13);
    await letters.retry('a-v1');
    expect(view.applied).toEqual(['a@1']);
    expect((await letters.list()).map((l) => [l.id, l.state])).toEqual([
      ['a-v2', 'failed'],
      ['a-v3', 'parked'],
    ]);
    expect(settler.counts()).toEqual({ failed: 1, parked: 1, parkedEntities: 1 });
  });

  it('discarding the failed event releases the parked ones in order, without it', async () => {
    const handled: string[] = [];
    const runner: EventRunner = {
      dispatch: async (event) => {
        if (event.eventData.amount === 13) return { kind: 'failed', error: new Error('unlucky'), attempts: 1 };
        handled.push(event.eventId);
        return { kind: 'handled' };
      },
    };
    const { settler, letters } = await open('park', runner);
    await kinds(settler, [deposit('c', 1), deposit('c', 2, 13), deposit('c', 3), deposit('c', 4)]);
    expect(handled).toEqual(['c-v1']);
    expect((await letters.discard('c-v2')).event?.eventData).toEqual({ amount: 13 });
    expect(handled).toEqual(['c-v1', 'c-v3', 'c-v4']);
    expect(await letters.list()).toEqual([]);
    expect(settler.counts()).toEqual({ failed: 0, parked: 0, parkedEntities: 0 });
  });

  it('refuses to retry or discard a parked event (naming the failed one before it), an unknown id, and to retry a message that is not an event', async () => {
    const view = new StrictView();
    view.broken.add(13);
    const { settler, letters } = await open('park', view);
    await kinds(settler, [deposit('a', 1, 13), deposit('a', 2)]);
    await expect(letters.retry('a-v2')).rejects.toThrow(
      new DeadLetterRequestError(
        'cannot retry dead letter a-v2 of subscriber view: it has not failed, it is parked behind failed letter a-v1 of entity Wallet/a. Retry or discard that one; the parked events then follow in order.',
      ),
    );
    await expect(letters.discard('a-v2')).rejects.toThrow(/cannot discard dead letter a-v2 .* parked behind failed letter a-v1/);
    await expect(letters.retry('nope')).rejects.toThrow('dead letter nope of subscriber view does not exist (list shows the ids)');

    const unreadable = { id: 'p.Wallet/0@9', entityKey: 'Wallet/z', text: '{oops', error: Object.assign(new Error('not an event'), { name: 'UnreadableMessageError' }) };
    expect((await settler.settle({ unreadable, origin: { source: 'kafka', topic: 'p.Wallet', partition: 0, offset: '9' } }, signal)).kind).toBe('dead-lettered');
    await expect(letters.retry('p.Wallet/0@9')).rejects.toThrow(/is a message that is not an event \(UnreadableMessageError: not an event\): no handler can take it, it can only be discarded/);
    expect(await letters.retryAll()).toEqual(['a-v1']);
    expect((await letters.discard('p.Wallet/0@9')).unreadable).toBe('{oops');
  });

  it('parking is durable: a new settler on the same store parks the entity’s events (a restart), and takes a redelivery as done', async () => {
    const store = memoryDeadLetters();
    const view = new StrictView();
    view.broken.add(13);
    const first = await open('park', view, store);
    await kinds(first.settler, [deposit('a', 1), deposit('a', 2, 13), deposit('a', 3)]);
    await first.settler.close();

    const restarted = new StrictView();
    const { settler, letters } = await open('park', restarted, store);
    // The restart resumes from an earlier position: v1 (handled before the failure), v2 and v3 (recorded) come again, then v4.
    expect(await kinds(settler, [deposit('a', 1), deposit('a', 2, 13), deposit('a', 3), deposit('a', 4)])).toEqual(['redelivered', 'redelivered', 'redelivered', 'parked']);
    expect(restarted.applied).toEqual([]);
    expect((await letters.list()).map((l) => l.id)).toEqual(['a-v2', 'a-v3', 'a-v4']);
  });

  it("'dead-letter': the failed event is recorded and the entity's later events are handled", async () => {
    const handled: string[] = [];
    const runner: EventRunner = { dispatch: async (e) => (e.eventData.amount === 13 ? { kind: 'failed', error: new Error('unlucky'), attempts: 2 } : (handled.push(e.eventId), { kind: 'handled' })) };
    const { settler, letters } = await open('dead-letter', runner);
    expect(await kinds(settler, [deposit('a', 1, 13), deposit('a', 2)])).toEqual(['dead-lettered', 'handled']);
    expect(handled).toEqual(['a-v2']);
    expect(await letters.list()).toEqual([expect.objectContaining({ id: 'a-v1', state: 'failed', parksEntity: false, attempts: 2 })]);
    expect(settler.counts()).toEqual({ failed: 1, parked: 0, parkedEntities: 0 });
  });

  it("'stop': the subscriber halts on the failed event and nothing is recorded", async () => {
    const view = new StrictView();
    view.broken.add(13);
    const { settler, letters } = await open('stop', view);
    const settled = await settle(settler, deposit('a', 1, 13));
    expect(settled).toEqual({ kind: 'halted', error: expect.any(SubscriberHaltedError) });
    expect((settled as { error: Error }).error.message).toBe('subscriber view stopped: its handler failed for event a-v1: amount 13 is unlucky');
    expect(await letters.list()).toEqual([]);
  });

  it('a dead-letter store that fails is retried; one that keeps failing halts the subscriber instead of going past the event', async () => {
    const memory = memoryDeadLetters();
    let failures = 0;
    const flaky: DeadLetterStore = {
      ...memory,
      record: async (letter) => {
        if (failures-- > 0) throw new Error('connection terminated');
        return memory.record(letter);
      },
    };
    const view = new StrictView();
    view.broken.add(13);
    const { settler } = await open('park', view, flaky, { storeAttempts: 3, storeBackoff: { baseMs: 1, maxMs: 2 } });
    failures = 2;
    expect((await settle(settler, deposit('a', 1, 13))).kind).toBe('dead-lettered');
    expect(await memory.list('view')).toHaveLength(1);

    failures = 3;
    const settled = await settle(settler, deposit('b', 1, 13));
    expect(settled).toEqual({ kind: 'halted', error: expect.any(DeadLetterStoreError) });
    expect((settled as { error: Error }).error.message).toMatch(/^subscriber view stopped: its dead-letter store failed 3 times while recording event b-v1 \(connection terminated\)\. It stopped rather than go past/);
    expect(await memory.list('view')).toHaveLength(1);
  });

  it('a runner that throws instead of reporting a failure halts the subscriber; nothing is recorded or skipped', async () => {
    const runner: EventRunner = {
      dispatch: async () => {
        throw new Error('connection refused');
      },
    };
    const { settler, letters } = await open('dead-letter', runner);
    const settled = await settle(settler, deposit('a', 1));
    expect(settled).toEqual({ kind: 'halted', error: expect.any(SubscriberHaltedError) });
    expect((settled as { error: Error }).error.message).toBe('subscriber view stopped: its handler failed for event a-v1: connection refused');
    expect(await letters.list()).toEqual([]);
  });

  it('parked entities that cannot be read (after a Kafka rebalance) halt the subscriber instead of letting events overtake parked ones', async () => {
    const memory = memoryDeadLetters();
    let readable = true;
    const failing: DeadLetterStore = {
      ...memory,
      parkedEntities: async (subscriberId) => {
        if (!readable) throw new Error('too many connections');
        return memory.parkedEntities(subscriberId);
      },
    };
    const { settler } = await open('park', new StrictView(), failing, { storeAttempts: 2, storeBackoff: { baseMs: 1, maxMs: 2 } });
    readable = false;
    await expect(settler.reloadParked()).rejects.toThrow(
      /^subscriber view stopped: its dead-letter store failed 2 times while reading its parked entities \(too many connections\)/,
    );
    expect(await settle(settler, deposit('a', 1))).toEqual({ kind: 'halted', error: expect.any(DeadLetterStoreError) });
    readable = true;
    await settler.reloadParked();
    expect(await settle(settler, deposit('a', 1))).toEqual({ kind: 'handled' });
  });

  it('an event interrupted by stopping is neither done nor recorded', async () => {
    const stopping = new AbortController();
    const runner: EventRunner = {
      dispatch: async () => {
        stopping.abort();
        return { kind: 'failed', error: new Error('aborted while retrying'), attempts: 1 };
      },
    };
    const { settler, letters } = await open('park', runner);
    expect(await settler.settle({ event: deposit('a', 1), origin: { source: 'feed' } }, stopping.signal)).toEqual({ kind: 'interrupted' });
    expect(await letters.list()).toEqual([]);
  });

  it('retries only the letters this process owns (a Kafka member: its partitions)', async () => {
    const view = new StrictView();
    view.broken.add(13);
    const { settler, letters } = await open('park', view);
    await kinds(settler, [deposit('a', 1, 13), deposit('a', 2)]);
    view.broken.clear();
    settler.setOwnership(() => false);
    await letters.retry('a-v1');
    expect(view.applied).toEqual([]);
    // The request stays for the owner.
    expect((await letters.list())[0].retryRequestedAt).toEqual(expect.any(String));
    settler.setOwnership(() => true);
    await settler.processPending();
    expect(view.applied).toEqual(['a@1', 'a@2']);
  });
});
