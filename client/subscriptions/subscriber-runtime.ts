import type { Logger } from 'pino';
import type { SubscriberModel } from '../decorators/event-subscriber';
import type { CursorStore } from './cursor-store';
import type { EventRunner } from './event-settler';

/**
 * A subscriber that brings its own runner and keeps its own position (a projection made with
 * postgresProjection): the SubscriptionManager runs it like any subscriber, through its runner.
 */
export interface SubscriberRuntime {
  readonly subscriberModel: SubscriberModel;
  /** Before its source starts: prepares what it writes to and hands over its runner and, for feed sources, its cursor store. */
  open(logger: Logger): Promise<{ runner: EventRunner; cursorStore?: CursorStore }>;
  /** It stopped: asked to (no error), or by itself (the error says why). */
  closed(error?: Error): Promise<void>;
  /** Where it stands beyond what the manager knows ('rebuilding' while a rebuild runs in this process). */
  readonly state?: 'rebuilding';
}

export function isSubscriberRuntime(subscriber: object): subscriber is SubscriberRuntime {
  const candidate = subscriber as Partial<SubscriberRuntime>;
  return typeof candidate.open === 'function' && typeof candidate.closed === 'function' && candidate.subscriberModel !== undefined;
}
