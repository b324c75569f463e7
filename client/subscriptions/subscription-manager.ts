import pino, { type Logger } from 'pino';
import { entityTypesApplying } from '../decorators/aggregate-registry';
import { RegistrationError, describeClass } from '../registration-error';
import type { EventSource, RunningSubscription } from './event-source';
import { subscriberModelOf, type SubscriberModel } from '../decorators/event-subscriber';
import { SubscriberDispatcher } from './subscriber-dispatcher';

export interface SubscriptionManagerOptions {
  /** kafkaSource({ brokers }) or feedSource({ url } | { store }, with its cursorStore and deadLetters). */
  source: EventSource;
  /** Instances of @EventSubscriber classes; more can be added before start. */
  subscribers?: object[];
  /** Default: pino at LOG_LEVEL (info). */
  logger?: Logger;
  /** Called when a subscriber stops by itself (onFailure 'stop', or its source failed for good). */
  onSubscriberHalted?: (subscriberId: string, error: Error) => void;
}

export interface SubscriberStatus {
  subscriberId: string;
  entityTypes: string[];
  running: boolean;
  /** Why it stopped by itself, if it did. */
  error?: Error;
}

interface Entry {
  subscriber: object;
  model: SubscriberModel;
  entityTypes: string[];
  running?: RunningSubscription;
  error?: Error;
}

/** Runs @EventSubscriber instances from one source, each as its own consumer (group) with its own position. */
export class SubscriptionManager {
  private readonly entries = new Map<string, Entry>();
  private readonly logger: Logger;
  private started = false;

  constructor(private readonly options: SubscriptionManagerOptions) {
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
    for (const subscriber of options.subscribers ?? []) this.add(subscriber);
  }

  add(subscriber: object): this {
    if (this.started) throw new Error('add subscribers before start()');
    const model = subscriberModelOf(subscriber);
    if (this.entries.has(model.subscriberId)) throw new RegistrationError(`subscriber '${model.subscriberId}' was added twice`);
    this.entries.set(model.subscriberId, { subscriber, model, entityTypes: [] });
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
    const running = [...this.entries.values()].filter((entry) => entry.running);
    await Promise.all(
      running.map(async (entry) => {
        const subscription = entry.running!;
        entry.running = undefined;
        await subscription.stop();
      }),
    );
    this.started = false;
  }

  status(): SubscriberStatus[] {
    return [...this.entries.values()].map((entry) => ({
      subscriberId: entry.model.subscriberId,
      entityTypes: entry.entityTypes,
      running: entry.running !== undefined,
      error: entry.error,
    }));
  }

  private async startEntry(entry: Entry): Promise<void> {
    const logger = this.logger.child({ subscriberId: entry.model.subscriberId });
    entry.error = undefined;
    entry.running = await this.options.source.start({
      dispatcher: new SubscriberDispatcher(entry.subscriber, entry.model, logger),
      entityTypes: entry.entityTypes,
      logger,
      onHalted: (error) => {
        entry.running = undefined;
        entry.error = error;
        this.options.onSubscriberHalted?.(entry.model.subscriberId, error);
      },
    });
    logger.info({ source: this.options.source.description, entityTypes: entry.entityTypes }, 'subscriber started');
  }
}

/** The subscriber's declared entity types, or those of the aggregates that apply its events. */
function entityTypesOf(model: SubscriberModel): string[] {
  if (model.explicitEntityTypes?.length) return [...new Set(model.explicitEntityTypes)];
  const types = new Set<string>();
  const unplaced: string[] = [];
  for (const eventType of model.handlers.keys()) {
    const applying = entityTypesApplying(eventType);
    if (applying.length === 0) unplaced.push(eventType);
    applying.forEach((type) => types.add(type));
  }
  if (unplaced.length > 0) throw new RegistrationError(unplacedEventsMessage(model, unplaced));
  return [...types].sort();
}

/**
 * The entity type an event belongs to is known only from an @Aggregate that @Applies it. When none
 * does, the @Apply is as likely missing (or the aggregate's module not loaded) as the entity types
 * undeclared, so the message names both fixes.
 */
function unplacedEventsMessage(model: SubscriberModel, unplaced: string[]): string {
  const where = `@EventSubscriber('${model.subscriberId}') on class ${describeClass(model.subscriberClass)}`;
  const handled = unplaced.map((eventType) => `${model.handlers.get(eventType)}() handles '${eventType}'`).join(', ');
  const types = unplaced.map((eventType) => `'${eventType}'`).join(', ');
  return (
    `${where}: ${handled}, but no registered @Aggregate class has an @Apply method for ${types}, ` +
    `so the entity types (Kafka topics, feed filter) that carry ${unplaced.length === 1 ? 'it' : 'them'} are unknown. Either ` +
    `(1) add an @Apply method for ${types} to the @Aggregate class whose @Process methods emit ${unplaced.length === 1 ? 'it' : 'them'} ` +
    `(and import that class's module before start(): an @Aggregate registers when its module loads), or ` +
    `(2) declare the entity types on the subscriber: @EventSubscriber('${model.subscriberId}', { entityTypes: ['<the emitting aggregate's entity type>'] }).`
  );
}
