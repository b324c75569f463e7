import pino, { type Logger } from 'pino';
import { RegistrationError, describeClass } from '../registration-error';
import { entityTypesOf } from './subscriber-entity-types';
import type { DeadLetterCounts, DeadLetterStore } from './dead-letter-store';
import type { CursorStore } from './cursor-store';
import type { EventSource, RunningSubscription } from './event-source';
import type { FeedLag } from './feed-lag';
import { EventSettler } from './event-settler';
import { subscriberModelOf, type SubscriberModel } from '../decorators/event-subscriber';
import { SubscriberDeadLetters } from './subscriber-dead-letters';
import { SubscriberDispatcher } from './subscriber-dispatcher';
import { isSubscriberRuntime, type SubscriberRuntime } from './subscriber-runtime';
import { isProjection } from '../decorators/projection';
import { registerSubscriberMetrics, type MetricsRegistry } from './subscriber-metrics';

export interface SubscriptionManagerOptions {
  /** kafkaSource({ brokers }) or feedSource({ url } | { store }, with its cursorStore). */
  source: EventSource;
  /**
   * Where every subscriber's failed events (and the events parked behind them) are kept, whichever
   * the source. No default, like the cursor store: postgresDeadLetters({ connectionString }) for
   * anything that outlives the process (it is also what `eventuate-local dead-letters` reads), or
   * memoryDeadLetters() for tests and throwaway views.
   */
  deadLetters: DeadLetterStore;
  /** How often a running subscriber looks for retries asked for from another process. Default 2000 ms. */
  deadLetterPollMs?: number;
  /** Attempts at a dead-letter store write before the subscriber halts (it never goes past an unrecorded event). Default 5. */
  deadLetterWriteAttempts?: number;
  /** Instances of @EventSubscriber classes; more can be added before start. */
  subscribers?: object[];
  /** Default: pino at LOG_LEVEL (info). */
  logger?: Logger;
  /** Called when a subscriber stops by itself (onFailure 'stop', a dead-letter store that kept failing, or its source failed for good). */
  onSubscriberHalted?: (subscriberId: string, error: Error) => void;
}

export interface SubscriberStatus {
  subscriberId: string;
  entityTypes: string[];
  running: boolean;
  /** 'halted': it stopped by itself (see error); 'rebuilding': a projection replaying into a new copy while its current one serves. */
  state: 'running' | 'rebuilding' | 'stopped' | 'halted';
  /** Why it stopped by itself, if it did. */
  error?: Error;
  /** What its source is retrying after (feed read errors, a Kafka consumer restarting), while it does. */
  sourceError?: Error;
  /** Its dead letters: failed events, events parked behind them, and the entities they hold (counted while it runs). */
  deadLetters: DeadLetterCounts;
}

/** Where a subscriber stands in the feed: its checkpoint and what waits after it. */
export interface SubscriberPosition {
  subscriberId: string;
  checkpoint?: string;
  lag?: FeedLag;
  /** Why the position could not be read (the source has no positions: Kafka; the store did not answer). */
  unknown?: string;
}

interface Entry {
  subscriber: object;
  /** Set for a subscriber that brings its own runner (a projection). */
  runtime?: SubscriberRuntime;
  /** Where its feed position is kept, when it keeps its own (a projection). */
  cursorStore?: CursorStore;
  model: SubscriberModel;
  entityTypes: string[];
  running?: RunningSubscription;
  settler?: EventSettler;
  error?: Error;
  sourceError?: Error;
  lastCounts: DeadLetterCounts;
}

/** Runs @EventSubscriber instances from one source, each as its own consumer (group) with its own position. */
export class SubscriptionManager {
  private readonly entries = new Map<string, Entry>();
  private readonly logger: Logger;
  private started = false;

  constructor(private readonly options: SubscriptionManagerOptions) {
    if (!options?.deadLetters) {
      throw new TypeError(
        "SubscriptionManager needs deadLetters: where an event goes when its subscriber's handler still fails after the last attempt, and where the events parked behind it wait. " +
          'postgresDeadLetters({ connectionString }) keeps them durably (and `eventuate-local dead-letters` works with them); memoryDeadLetters() keeps them in memory, for tests and throwaway views.',
      );
    }
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
    for (const subscriber of options.subscribers ?? []) this.add(subscriber);
  }

  /** An @EventSubscriber instance, or a projection as postgresProjection(...) made it. */
  add(subscriber: object): this {
    if (this.started) throw new Error('add subscribers before start()');
    const runtime = isSubscriberRuntime(subscriber) ? subscriber : undefined;
    if (!runtime && isProjection(subscriber)) {
      throw new RegistrationError(
        `${describeClass(subscriber.constructor)} is a @Projection: add postgresProjection(projection, { connectionString }) to the manager, which gives its handlers their transaction`,
      );
    }
    const model = runtime?.subscriberModel ?? subscriberModelOf(subscriber);
    if (this.entries.has(model.subscriberId)) throw new RegistrationError(`subscriber '${model.subscriberId}' was added twice`);
    this.entries.set(model.subscriberId, { subscriber, runtime, model, entityTypes: [], lastCounts: { failed: 0, parked: 0, parkedEntities: 0 } });
    return this;
  }

  /** Starts every subscriber; resolves once each is connected (Kafka: joined its group). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) entry.entityTypes = entityTypesOf(entry.model);
    try {
      for (const entry of this.entries.values()) await this.startEntry(entry);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Lets handlers in flight finish and commits what they did, then disconnects. */
  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => this.stopEntry(entry)));
    this.started = false;
  }

  status(): SubscriberStatus[] {
    return [...this.entries.values()].map((entry) => ({
      subscriberId: entry.model.subscriberId,
      entityTypes: entry.entityTypes,
      running: entry.running !== undefined,
      state: entry.running ? (entry.runtime?.state ?? 'running') : entry.error ? 'halted' : 'stopped',
      error: entry.error,
      sourceError: entry.sourceError,
      deadLetters: entry.settler?.counts() ?? entry.lastCounts,
    }));
  }

  /**
   * Each subscriber's checkpoint and lag (events waiting, up to 1000, and the oldest one's age), read
   * from the feed now. A source without positions (Kafka: see the consumer group's lag) says so.
   */
  async positions(): Promise<SubscriberPosition[]> {
    const source = this.options.source;
    return Promise.all(
      [...this.entries.values()].map(async (entry): Promise<SubscriberPosition> => {
        const subscriberId = entry.model.subscriberId;
        if (!source.position) return { subscriberId, unknown: `${source.description} keeps no feed positions` };
        try {
          return { subscriberId, ...(await source.position({ subscriberId, entityTypes: entry.entityTypes, cursorStore: entry.cursorStore })) };
        } catch (err) {
          return { subscriberId, unknown: (err as Error).message };
        }
      }),
    );
  }

  /**
   * A subscriber's dead letters: list, retry (carried out at once when the subscriber runs here),
   * discard. The same as `eventuate-local dead-letters` does from another process.
   */
  deadLetters(subscriberId: string): SubscriberDeadLetters {
    const entry = this.entries.get(subscriberId);
    if (!entry) throw new RegistrationError(`no subscriber '${subscriberId}' in this manager (it has ${[...this.entries.keys()].map((id) => `'${id}'`).join(', ') || 'none'})`);
    return new SubscriberDeadLetters(this.options.deadLetters, subscriberId, {
      processPending: async () => {
        if (entry.running && entry.settler) await entry.settler.processPending();
      },
    });
  }

  /** Adds the subscribers' gauges (running, dead letters, parked events and entities) to a prom-client Registry (prom-client must be installed). */
  registerMetrics(registry: MetricsRegistry): void {
    registerSubscriberMetrics(registry, () => this.status(), () => this.positions());
  }

  private async startEntry(entry: Entry): Promise<void> {
    const subscriberId = entry.model.subscriberId;
    const logger = this.logger.child({ subscriberId });
    entry.error = undefined;
    entry.sourceError = undefined;
    const own = await entry.runtime?.open(logger);
    entry.cursorStore = own?.cursorStore;
    const settler = new EventSettler({
      subscriberId,
      policy: entry.model.onFailure,
      runner: own?.runner ?? new SubscriberDispatcher(entry.subscriber, entry.model, logger),
      store: this.options.deadLetters,
      logger,
      pollMs: this.options.deadLetterPollMs,
      storeAttempts: this.options.deadLetterWriteAttempts,
    });
    await settler.open();
    entry.settler = settler;
    try {
      entry.running = await this.options.source.start({
        subscriberId,
        readFrom: entry.model.readFrom,
        entityTypes: entry.entityTypes,
        settler,
        cursorStore: own?.cursorStore,
        logger,
        onSourceError: (error) => void (entry.sourceError = error),
        onSourceRecovered: () => void (entry.sourceError = undefined),
        onHalted: (error) => {
          entry.running = undefined;
          entry.error = error;
          void this.closeSettler(entry);
          void entry.runtime?.closed(error).catch((err: unknown) => logger.warn({ err }, 'could not record why the subscriber stopped'));
          this.options.onSubscriberHalted?.(subscriberId, error);
        },
      });
    } catch (err) {
      await this.closeSettler(entry);
      await entry.runtime?.closed();
      throw err;
    }
    logger.info({ source: this.options.source.description, entityTypes: entry.entityTypes, onFailure: entry.model.onFailure }, 'subscriber started');
  }

  private async stopEntry(entry: Entry): Promise<void> {
    const subscription = entry.running;
    entry.running = undefined;
    await subscription?.stop();
    await this.closeSettler(entry);
    if (subscription) await entry.runtime?.closed();
  }

  /** A stopped subscriber retries nothing; its last counts stay in the status. */
  private async closeSettler(entry: Entry): Promise<void> {
    const settler = entry.settler;
    if (!settler) return;
    entry.settler = undefined;
    entry.lastCounts = settler.counts();
    await settler.close();
  }
}
