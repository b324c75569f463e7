import type { FailurePolicy, ReadFrom, SubscriberModel } from '../decorators/event-subscriber';
import { RegistrationError } from '../registration-error';

/** How the orchestrator and participants run as subscribers; the same knobs as @EventSubscriber's. */
export interface SagaSubscriberOptions {
  /** Its consumer group / feed cursor name; keep it stable across deployments. */
  subscriberId?: string;
  /** Default 'park': a saga's events build on each other, so an entity's later ones wait behind a failed one. */
  onFailure?: FailurePolicy;
  /** Attempts per event before onFailure applies. Default 5. */
  maxAttempts?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /** Default 'beginning': a saga must see every command and reply. */
  readFrom?: ReadFrom;
}

const SUBSCRIBER_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * The subscriber model of a saga runtime: its entity types are given, and it brings its own runner, so
 * `handled` (the event types it acts on) only describes it; the runner decides what it skips.
 */
export function sagaSubscriberModel(subscriberClass: Function, defaultId: string, entityTypes: string[], handled: string[], options: SagaSubscriberOptions): SubscriberModel {
  const subscriberId = options.subscriberId ?? defaultId;
  if (!SUBSCRIBER_ID.test(subscriberId)) throw new RegistrationError(`${subscriberClass.name}: subscriberId '${subscriberId}' must match ${SUBSCRIBER_ID.source} (it names a Kafka consumer group)`);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RegistrationError(`${subscriberClass.name} '${subscriberId}': maxAttempts must be a positive integer`);
  return {
    subscriberId,
    subscriberClass,
    onFailure: options.onFailure ?? 'park',
    maxAttempts,
    backoff: { baseMs: options.backoff?.baseMs ?? 100, maxMs: options.backoff?.maxMs ?? 5000 },
    explicitEntityTypes: entityTypes,
    readFrom: options.readFrom ?? 'beginning',
    handlers: new Map(handled.map((eventType) => [eventType, 'dispatch'])),
  };
}
