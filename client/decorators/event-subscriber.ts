import 'reflect-metadata';
import { eventTypeOf, type EventClass } from './event-registry';
import { RegistrationError, describeClass } from '../registration-error';

/**
 * What happens to an event whose handler still fails after the last attempt (or that is not an
 * event at all). Every choice records it where the subscriber's dead letters are kept, except 'stop'.
 * - 'park' (default): dead-letter it and park its entity: that entity's later events wait behind it,
 *   in order, recorded as parked, until it is retried successfully (they follow in order) or
 *   discarded. Other entities go on. Axon's sequenced dead-letter queue.
 * - 'dead-letter': dead-letter it and go on with the entity's later events. Only for subscribers
 *   whose handling of one event does not depend on the entity's earlier ones (a mailer).
 * - 'stop': stop the subscriber; nothing past the event is committed, so a restart delivers it again.
 */
export type FailurePolicy = 'park' | 'dead-letter' | 'stop';

const FAILURE_POLICIES: readonly FailurePolicy[] = ['park', 'dead-letter', 'stop'];

/** Where a new subscriber starts: every event there is ('beginning') or only those written after it starts ('end'). */
export type ReadFrom = 'beginning' | 'end';

export interface EventSubscriberOptions {
  /**
   * 'park' (default): dead-letter the event and hold its entity's later events behind it until it is
   * retried or discarded; 'dead-letter': dead-letter it and go on with the entity's later events;
   * 'stop': stop this subscriber, commit nothing past it. See FailurePolicy.
   */
  onFailure?: FailurePolicy;
  /** Attempts per event before onFailure applies; default 5. */
  maxAttempts?: number;
  /** Backoff between attempts: a random delay below min(maxMs, baseMs · 2^(n-1)). Defaults 100 and 5000 ms. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** The entity types (topics) to read. Default: the @Aggregate classes that @Apply the handled events. */
  entityTypes?: string[];
  /**
   * Where the subscriber starts when it has no position yet (no saved feed cursor; a Kafka consumer
   * group without committed offsets): 'beginning' (default) or 'end', the events written after it
   * started. A saved position always wins. The default is 'beginning' because most subscribers are
   * views built from the history or sagas that must see every step; a view that starts at the end
   * silently lacks everything before it, while one that starts at the beginning only takes longer.
   */
  readFrom?: ReadFrom;
}

export interface SubscriberModel {
  subscriberId: string;
  subscriberClass: Function;
  onFailure: FailurePolicy;
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  explicitEntityTypes?: string[];
  readFrom: ReadFrom;
  /** Event type name → method name. */
  handlers: Map<string, string>;
}

/** The subscriber id names a Kafka consumer group, a saved feed cursor and a set of dead letters. */
const SUBSCRIBER_ID = /^[A-Za-z0-9._-]{1,200}$/;

const declaredHandlers = new WeakMap<object, Array<{ methodName: string; eventClass: EventClass }>>();
const models = new Map<Function, SubscriberModel>();
const classesById = new Map<string, Function>();

/**
 * Marks a class whose @EventHandlerMethod methods react to events. The id is the Kafka consumer
 * group (and the name of the subscriber's feed cursor): keep it stable across deployments.
 */
export function EventSubscriber(subscriberId: string, options: EventSubscriberOptions = {}): ClassDecorator {
  return (subscriberClass) => {
    declareSubscriber('@EventSubscriber', subscriberId, options, subscriberClass);
  };
}

/**
 * Checks and records a subscriber's model: what @EventSubscriber does, and @Projection (`decorator`
 * names which in errors) for the subscriber a projection also is.
 */
export function declareSubscriber(decorator: string, subscriberId: string, options: EventSubscriberOptions, subscriberClass: Function): SubscriberModel {
  const where = `${decorator}('${subscriberId}') on class ${describeClass(subscriberClass)}`;
  if (typeof subscriberId !== 'string' || !SUBSCRIBER_ID.test(subscriberId)) {
    throw new RegistrationError(`${where}: the id must match ${SUBSCRIBER_ID.source} (it names a Kafka consumer group)`);
  }
  const taken = classesById.get(subscriberId);
  if (taken && taken !== subscriberClass) {
    throw new RegistrationError(`${where}: the id is already used by class ${describeClass(taken)}`);
  }
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RegistrationError(`${where}: maxAttempts must be a positive integer`);
  if (options.onFailure !== undefined && !FAILURE_POLICIES.includes(options.onFailure)) {
    throw new RegistrationError(`${where}: onFailure must be one of ${FAILURE_POLICIES.map((p) => `'${p}'`).join(', ')}, not ${JSON.stringify(options.onFailure)}`);
  }
  if (options.readFrom !== undefined && !['beginning', 'end'].includes(options.readFrom)) {
    throw new RegistrationError(`${where}: readFrom must be 'beginning' or 'end'`);
  }
  const handlers = new Map<string, string>();
  for (const { methodName, eventClass } of declaredHandlers.get(subscriberClass.prototype) ?? []) {
    const eventType = eventTypeOf(eventClass);
    const existing = handlers.get(eventType);
    if (existing && existing !== methodName) {
      throw new RegistrationError(`${where}: both ${existing} and ${methodName} handle '${eventType}'`);
    }
    handlers.set(eventType, methodName);
  }
  if (handlers.size === 0) throw new RegistrationError(`${where}: the class has no @EventHandlerMethod`);
  const model: SubscriberModel = {
    subscriberId,
    subscriberClass,
    onFailure: options.onFailure ?? 'park',
    maxAttempts,
    backoff: { baseMs: options.backoff?.baseMs ?? 100, maxMs: options.backoff?.maxMs ?? 5000 },
    explicitEntityTypes: options.entityTypes,
    readFrom: options.readFrom ?? 'beginning',
    handlers,
  };
  models.set(subscriberClass, model);
  classesById.set(subscriberId, subscriberClass);
  return model;
}

/** Marks a method that handles `eventClass` (a @DomainEvent class); it gets an EventHandlerContext (in a @Projection, a ProjectionContext). */
export function EventHandlerMethod(eventClass: EventClass): MethodDecorator {
  return (prototype, methodName, descriptor) => {
    const where = `@EventHandlerMethod on ${describeClass(prototype.constructor)}.${String(methodName)}`;
    if (typeof methodName !== 'string' || typeof descriptor.value !== 'function') {
      throw new RegistrationError(`${where}: only methods with string names can be decorated`);
    }
    if (typeof eventClass !== 'function') throw new RegistrationError(`${where}: give the event class, e.g. @EventHandlerMethod(AccountDebited)`);
    const list = declaredHandlers.get(prototype) ?? [];
    list.push({ methodName, eventClass });
    declaredHandlers.set(prototype, list);
  };
}

/** The model of a subscriber instance's class. */
export function subscriberModelOf(subscriber: object): SubscriberModel {
  const model = models.get(subscriber.constructor);
  if (!model) throw new RegistrationError(`${describeClass(subscriber.constructor)} is not a subscriber: it has no @EventSubscriber`);
  return model;
}
