import type { Logger } from 'pino';
import type { StoredEvent } from '../../src/model';
import { jitteredBackoffMs, sleep, type BackoffOptions } from '../../src/backoff';
import type { FailurePolicy } from '../decorators/event-subscriber';
import type { DeadLetter, DeadLetterCounts, DeadLetterStore, DeliveryOrigin, NewDeadLetter } from './dead-letter-store';
import { DeadLetterStoreError, SubscriberHaltedError } from './halt-errors';
import { KeyedSerialQueue } from './keyed-serial-queue';
import type { DispatchOutcome } from './subscriber-dispatcher';

/**
 * Runs a subscriber's handler for one event, with whatever attempts it makes, and never throws: a
 * SubscriberDispatcher, or a projection's runner that wraps the handler in a transaction.
 */
export interface EventRunner {
  dispatch(event: StoredEvent, signal?: AbortSignal): Promise<DispatchOutcome>;
}

/** A runner that can also apply several events in one transaction: a projection's. */
export interface BatchEventRunner extends EventRunner {
  /** Most events in one runBatch. */
  readonly batchSize: number;
  /**
   * Applies the events in order, all or nothing, in one attempt, and records `checkpoint` (the feed
   * cursor up to which everything is settled once these are) with them. False when it applied
   * nothing: the settler then settles the events one by one, with the attempts and failure policy.
   */
  runBatch(events: StoredEvent[], checkpoint: string | undefined, signal: AbortSignal): Promise<boolean>;
}

function isBatchRunner(runner: EventRunner): runner is BatchEventRunner {
  return typeof (runner as Partial<BatchEventRunner>).runBatch === 'function';
}

/** What a source hands over: an event, or a message that is not one (it is dead-lettered, never skipped). */
export type Delivery =
  | { event: StoredEvent; origin: DeliveryOrigin }
  | { unreadable: { id: string; entityKey: string; text: string; error: Error }; origin: DeliveryOrigin };

/**
 * What became of a delivery. The first five are done with: its position may be committed.
 * 'redelivered': already dead-lettered or parked, or it precedes its entity's dead letter (handled
 * before it). 'halted': the subscriber must stop and commit nothing from here on. 'interrupted': the
 * subscriber is stopping; not done, not committed, delivered again after a restart.
 */
export type Settlement =
  | { kind: 'handled' | 'skipped' | 'dead-lettered' | 'parked' | 'redelivered' }
  | { kind: 'halted'; error: Error }
  | { kind: 'interrupted' };

export interface EventSettlerOptions {
  subscriberId: string;
  policy: FailurePolicy;
  runner: EventRunner;
  store: DeadLetterStore;
  logger: Logger;
  /** How often the subscriber looks in its store for retries asked for elsewhere (the CLI) and for released entities. Default 2000 ms. */
  pollMs?: number;
  /** Attempts at each dead-letter store operation before the subscriber halts. Default 5. */
  storeAttempts?: number;
  storeBackoff?: BackoffOptions;
}

/** The key events are ordered by, and parked by: one entity. */
export function entityKeyOf(entityType: string, entityId: string): string {
  return `${entityType}/${entityId}`;
}

type Durable<T> = { ok: true; value: T } | { ok: false; settlement: Settlement };

/**
 * Decides what becomes of each event a source delivers, after the runner's attempts: handled,
 * dead-lettered, parked behind its entity's dead letter, or the subscriber halted, by the
 * subscriber's failure policy. Sources only deliver and commit the positions of finished prefixes;
 * this is the one place the policy lives. It also carries out retries and discards: a retried
 * dead letter that succeeds releases the events parked behind it, in order.
 *
 * Everything it decides about an entity runs in that entity's lane, one thing at a time, so a
 * release never overtakes or interleaves with the entity's live events. Parking is durable: the
 * parked entities are read from the store at start (and after a Kafka rebalance), and a position is
 * committed past a parked event only once it is recorded.
 */
export class EventSettler {
  readonly subscriberId: string;
  private readonly parked = new Set<string>();
  private readonly lanes = new KeyedSerialQueue(Infinity);
  private readonly closing = new AbortController();
  private owns: (letter: DeadLetter) => boolean = () => true;
  private loading: Promise<void> = Promise.resolve();
  private processing: Promise<void> = Promise.resolve();
  private poller?: Promise<void>;
  private counted: DeadLetterCounts = { failed: 0, parked: 0, parkedEntities: 0 };

  constructor(private readonly options: EventSettlerOptions) {
    this.subscriberId = options.subscriberId;
  }

  /** Reads the parked entities and starts looking for retries; before the source delivers anything. */
  async open(): Promise<void> {
    await this.reloadParked();
    this.counted = await this.options.store.counts(this.subscriberId);
    this.poller = this.poll();
  }

  /** Stops looking for retries and waits for one in progress. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.poller;
    await this.processing;
  }

  /**
   * Which dead letters this process may retry and release. A Kafka member owns the letters of its
   * assigned partitions: the entity's live events arrive there, and two members releasing one entity
   * would race. Default: all.
   */
  setOwnership(owns: (letter: DeadLetter) => boolean): void {
    this.owns = owns;
  }

  /**
   * Reads again which entities are parked (a Kafka rebalance may have brought partitions whose
   * entities another member parked); deliveries wait until it is done.
   */
  reloadParked(): Promise<void> {
    const load = async () => {
      const read = await this.durably(undefined, () => this.options.store.parkedEntities(this.subscriberId), this.closing.signal);
      if (!read.ok) throw read.settlement.kind === 'halted' ? read.settlement.error : new Error(`subscriber ${this.subscriberId} is stopping`);
      for (const key of read.value) this.parked.add(key);
    };
    // A failed load fails the deliveries waiting for it (the subscriber halts); a later reload starts afresh.
    this.loading = this.loading.catch(() => undefined).then(load);
    return this.loading;
  }

  /** Dead letters, parked events and parked entities: kept as they change here, re-counted from the store at every poll. */
  counts(): DeadLetterCounts {
    return { ...this.counted };
  }

  /** Whether deliveries should come in batches (settleBatch): the runner applies several in one transaction. */
  get batches(): boolean {
    return isBatchRunner(this.options.runner);
  }

  /**
   * Settles deliveries that the source read together (a feed page, a Kafka batch of one partition),
   * in order per entity. With a batch runner, chunks of its batchSize go in one transaction each
   * (see settleChunk); when that transaction fails, its events are settled one by one, so a poison
   * event is found and the failure policy applies to it alone. `endCursor` (feed sources): the position once every delivery is settled, which may lie
   * past the last one. After a halt, the deliveries not reached are 'interrupted'.
   */
  async settleBatch(deliveries: Delivery[], signal: AbortSignal, endCursor?: string): Promise<Settlement[]> {
    const { runner } = this.options;
    const settlements: Settlement[] = [];
    const size = isBatchRunner(runner) ? runner.batchSize : 1;
    for (let from = 0; from < deliveries.length; from += size) {
      const chunk = deliveries.slice(from, from + size);
      if (signal.aborted || settlements.some((s) => s.kind === 'halted' || s.kind === 'interrupted')) {
        settlements.push(...chunk.map((): Settlement => ({ kind: 'interrupted' })));
        continue;
      }
      settlements.push(...(await this.settleChunk(chunk, from + size >= deliveries.length ? endCursor : undefined, signal)));
    }
    return settlements;
  }

  /**
   * The chunk's events of entities that are not parked go in one transaction; the rest (parked
   * entities' events, messages that are not events, or everything when that transaction fails) are
   * settled one by one. An entity's events are all on one side, so each entity keeps its order.
   */
  private async settleChunk(chunk: Delivery[], endCursor: string | undefined, signal: AbortSignal): Promise<Settlement[]> {
    const { runner } = this.options;
    const settlements = new Array<Settlement | undefined>(chunk.length);
    // Which entities are parked must be known before any of their events is applied; when it cannot
    // be read, settle() reports the halt for each.
    const parkedKnown = await this.loading.then(
      () => true,
      () => false,
    );
    const together = parkedKnown
      ? chunk.flatMap((delivery, index) =>
          'event' in delivery && !this.parked.has(entityKeyOf(delivery.event.entityType, delivery.event.entityId)) ? [{ event: delivery.event, index }] : [],
        )
      : [];
    if (isBatchRunner(runner) && together.length > 0) {
      // The checkpoint goes with the transaction only when it settles the whole chunk: a parked event
      // before it must be recorded first, or a crash would resume past it.
      const last = chunk[chunk.length - 1].origin;
      const whole = together.length === chunk.length && chunk.every((d) => d.origin.source === 'feed');
      const checkpoint = whole ? (endCursor ?? (last.source === 'feed' ? last.cursor : undefined)) : undefined;
      if (await this.runTogether(runner, together.map((t) => t.event), checkpoint, signal)) {
        for (const { index } of together) settlements[index] = { kind: 'handled' };
      }
    }
    // One by one: settle() queues them in their entities' lanes in this order, so each entity keeps its order.
    await Promise.all(
      chunk.map(async (delivery, index) => {
        if (settlements[index] === undefined) settlements[index] = await this.settle(delivery, signal);
      }),
    );
    return settlements as Settlement[];
  }

  private async runTogether(runner: BatchEventRunner, events: StoredEvent[], checkpoint: string | undefined, signal: AbortSignal): Promise<boolean> {
    try {
      return await runner.runBatch(events, checkpoint, signal);
    } catch (err) {
      this.options.logger.warn({ subscriberId: this.subscriberId, err }, 'batch runner threw; settling its events one by one');
      return false;
    }
  }

  async settle(delivery: Delivery, signal: AbortSignal): Promise<Settlement> {
    try {
      await this.loading;
    } catch (err) {
      return { kind: 'halted', error: err instanceof Error ? err : new Error(String(err)) };
    }
    const key = 'event' in delivery ? entityKeyOf(delivery.event.entityType, delivery.event.entityId) : delivery.unreadable.entityKey;
    return this.lanes.run(key, () => this.settleInLane(key, delivery, signal));
  }

  /**
   * Retries requested letters and releases entities whose failed letter is gone, now (retries asked
   * for in this process) or at the next poll (asked for elsewhere). One run at a time.
   */
  processPending(): Promise<void> {
    const run = this.processing.then(() => this.processPendingNow());
    this.processing = run.catch(() => undefined);
    return run;
  }

  private async settleInLane(key: string, delivery: Delivery, signal: AbortSignal): Promise<Settlement> {
    if (this.parked.has(key)) {
      const parked = await this.parkBehind(key, delivery, signal);
      if (parked) return parked;
    }
    let failure: { error: Error; attempts: number };
    if ('event' in delivery) {
      let outcome: DispatchOutcome;
      try {
        outcome = await this.options.runner.dispatch(delivery.event, signal);
      } catch (err) {
        // A runner reports failures as outcomes; one that throws is broken: stop, visibly, rather than guess.
        const cause = err instanceof Error ? err : new Error(String(err));
        return { kind: 'halted', error: new SubscriberHaltedError(this.subscriberId, delivery.event.eventId, cause) };
      }
      if (outcome.kind !== 'failed') return { kind: outcome.kind };
      failure = outcome;
    } else {
      failure = { error: delivery.unreadable.error, attempts: 0 };
    }
    if (signal.aborted) return { kind: 'interrupted' };
    return this.afterFailure(key, delivery, failure, signal);
  }

  private async afterFailure(key: string, delivery: Delivery, failure: { error: Error; attempts: number }, signal: AbortSignal): Promise<Settlement> {
    const { policy, logger } = this.options;
    const id = idOf(delivery);
    if (policy === 'stop') return { kind: 'halted', error: new SubscriberHaltedError(this.subscriberId, id, failure.error) };
    const parks = policy === 'park';
    const letter = this.letterOf(delivery, { state: 'failed', parksEntity: parks, error: describe(failure.error), attempts: failure.attempts, failedAt: new Date().toISOString() });
    const recorded = await this.durably(id, () => this.options.store.record(letter), signal);
    if (!recorded.ok) return recorded.settlement;
    if (recorded.value) this.counted.failed++;
    if (parks && !this.parked.has(key)) {
      this.parked.add(key);
      this.counted.parkedEntities++;
    }
    logger.error(
      { subscriberId: this.subscriberId, eventId: id, entity: key, attempts: failure.attempts, err: failure.error },
      parks ? "event dead-lettered; its entity's later events are parked behind it until it is retried or discarded" : 'event dead-lettered',
    );
    return { kind: 'dead-lettered' };
  }

  /** An event of a parked entity: recorded behind the entity's dead letter; undefined when the entity is no longer parked. */
  private async parkBehind(key: string, delivery: Delivery, signal: AbortSignal): Promise<Settlement | undefined> {
    const { store, logger } = this.options;
    const id = idOf(delivery);
    const known = await this.durably(id, () => store.find(this.subscriberId, id), signal);
    if (!known.ok) return known.settlement;
    if (known.value) return { kind: 'redelivered' };
    const first = await this.durably(id, () => store.list(this.subscriberId, { entityKey: key, parksEntity: true, limit: 1 }), signal);
    if (!first.ok) return first.settlement;
    const [head] = first.value;
    if (!head) {
      // Its letters were discarded (by the CLI) since: the entity goes on.
      if (this.parked.delete(key)) this.counted.parkedEntities--;
      return undefined;
    }
    if ('event' in delivery && head.entityVersion !== undefined && delivery.event.entityVersion < head.entityVersion) {
      // Redelivered from before the failure (a restart resumed from an earlier committed position): it was handled then.
      logger.debug({ subscriberId: this.subscriberId, eventId: id, entity: key }, 'redelivered event precedes its entity’s dead letter; it was handled before');
      return { kind: 'redelivered' };
    }
    const letter = this.letterOf(delivery, { state: 'parked', parksEntity: true, attempts: 0 });
    const recorded = await this.durably(id, () => store.record(letter), signal);
    if (!recorded.ok) return recorded.settlement;
    if (recorded.value) this.counted.parked++;
    logger.warn({ subscriberId: this.subscriberId, eventId: id, entity: key, behind: head.id }, 'event parked behind its entity’s dead letter');
    return { kind: 'parked' };
  }

  private letterOf(delivery: Delivery, fields: Pick<NewDeadLetter, 'state' | 'parksEntity' | 'error' | 'attempts' | 'failedAt'>): NewDeadLetter {
    const common = { subscriberId: this.subscriberId, origin: delivery.origin, ...fields };
    if ('event' in delivery) {
      const { event } = delivery;
      return { ...common, id: event.eventId, entityKey: entityKeyOf(event.entityType, event.entityId), entityVersion: event.entityVersion, event };
    }
    return { ...common, id: delivery.unreadable.id, entityKey: delivery.unreadable.entityKey, unreadable: delivery.unreadable.text };
  }

  /** A store operation, retried; halts the subscriber when it keeps failing (never goes past the event). */
  private async durably<T>(eventId: string | undefined, operation: () => Promise<T>, signal: AbortSignal): Promise<Durable<T>> {
    const attempts = this.options.storeAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return { ok: true, value: await operation() };
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (signal.aborted) return { ok: false, settlement: { kind: 'interrupted' } };
        this.options.logger.warn({ subscriberId: this.subscriberId, eventId, attempt, attempts, err: error }, 'dead-letter store failed; retrying');
        if (attempt >= attempts) return { ok: false, settlement: { kind: 'halted', error: new DeadLetterStoreError(this.subscriberId, eventId, attempt, error) } };
        await sleep(jitteredBackoffMs(attempt, this.options.storeBackoff ?? { baseMs: 200, maxMs: 5000 }), signal);
      }
    }
  }

  private async poll(): Promise<void> {
    const signal = this.closing.signal;
    while (!signal.aborted) {
      await sleep(this.options.pollMs ?? 2000, signal);
      if (signal.aborted) return;
      await this.processPending().catch((err: unknown) =>
        this.options.logger.warn({ subscriberId: this.subscriberId, err }, 'cannot act on dead-letter retries and discards now; trying again at the next poll'),
      );
    }
  }

  private async processPendingNow(): Promise<void> {
    const { store } = this.options;
    const signal = this.closing.signal;
    // Entities parked by another member before a rebalance, and entities whose letters were all discarded.
    const stored = new Set(await store.parkedEntities(this.subscriberId));
    for (const key of stored) this.parked.add(key);
    for (const key of [...this.parked]) {
      if (!stored.has(key)) await this.lanes.run(key, () => this.release(key, signal));
    }
    for (const letter of await store.pending(this.subscriberId)) {
      if (signal.aborted) return;
      if (!this.owns(letter)) continue;
      if (letter.parksEntity) await this.lanes.run(letter.entityKey, () => this.release(letter.entityKey, signal));
      else if (await store.claimRetry(this.subscriberId, letter.id)) await this.retry(letter, signal);
    }
    this.counted = await store.counts(this.subscriberId);
  }

  /**
   * Works through a parked entity's letters in order: a failed one only when its retry was asked for,
   * parked ones as soon as nothing failed is before them. Stops at the first that fails (it becomes
   * the entity's failed letter); the entity is released when none is left.
   */
  private async release(key: string, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.options;
    while (!signal.aborted) {
      const [head] = await store.list(this.subscriberId, { entityKey: key, parksEntity: true, limit: 1 });
      if (!head) {
        if (this.parked.delete(key)) {
          this.counted.parkedEntities--;
          logger.info({ subscriberId: this.subscriberId, entity: key }, 'entity released: its events are handled as they come again');
        }
        return;
      }
      if (!this.owns(head)) return;
      if (head.state === 'failed' && !(await store.claimRetry(this.subscriberId, head.id))) return;
      if (!(await this.retry(head, signal))) return;
    }
  }

  /** Runs a letter's event again; true when it was handled (and the letter removed). */
  private async retry(letter: DeadLetter, signal: AbortSignal): Promise<boolean> {
    const { store, runner, logger } = this.options;
    if (!letter.event) {
      // Not an event: nothing can handle it (the store marks no retry of one; this guards a parked one).
      logger.error({ subscriberId: this.subscriberId, eventId: letter.id, entity: letter.entityKey }, 'a message that is not an event cannot be retried, only discarded');
      if (letter.state === 'parked') await store.recordFailure(this.subscriberId, letter.id, { error: 'not an event: it can only be discarded', attempts: 0, at: new Date().toISOString() });
      return false;
    }
    const outcome = await runner.dispatch(letter.event, signal);
    if (outcome.kind !== 'failed') {
      await store.remove(this.subscriberId, letter.id);
      this.counted[letter.state]--;
      logger.info({ subscriberId: this.subscriberId, eventId: letter.id, entity: letter.entityKey }, letter.state === 'failed' ? 'dead letter handled on retry' : 'parked event handled');
      return true;
    }
    if (signal.aborted) {
      // Not tried to the end: ask again, so the retry happens after the restart.
      if (letter.state === 'failed') await store.requestRetry(this.subscriberId, [letter.id]);
      return false;
    }
    await store.recordFailure(this.subscriberId, letter.id, { error: describe(outcome.error), attempts: outcome.attempts, at: new Date().toISOString() });
    if (letter.state === 'parked') {
      this.counted.parked--;
      this.counted.failed++;
    }
    logger.error({ subscriberId: this.subscriberId, eventId: letter.id, entity: letter.entityKey, err: outcome.error }, 'dead letter failed again');
    return false;
  }
}

function idOf(delivery: Delivery): string {
  return 'event' in delivery ? delivery.event.eventId : delivery.unreadable.id;
}

/** The error as a list shows it: its message, after its class name unless that is plain Error. */
function describe(error: Error): string {
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}
