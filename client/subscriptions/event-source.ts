import type { Logger } from 'pino';
import type { SubscriberDispatcher } from './subscriber-dispatcher';

/** One subscriber as a source runs it. */
export interface Subscription {
  dispatcher: SubscriberDispatcher;
  /** The entity types (Kafka topics, feed filter) it reads. */
  entityTypes: string[];
  logger: Logger;
  /** Called when the subscriber stops by itself: its 'stop' failure policy, or a source failure it cannot recover from. */
  onHalted(error: Error): void;
}

export interface RunningSubscription {
  /** Lets handlers in flight finish, commits their positions, disconnects. */
  stop(): Promise<void>;
}

/** Where subscribers' events come from: Kafka (kafkaSource) or the event store's feed (feedSource). */
export interface EventSource {
  readonly description: string;
  start(subscription: Subscription): Promise<RunningSubscription>;
}

/** Raised through onHalted when a subscriber with onFailure 'stop' gives up on an event. */
export class SubscriberHaltedError extends Error {
  constructor(
    readonly subscriberId: string,
    readonly eventId: string,
    override readonly cause: Error,
  ) {
    super(`subscriber ${subscriberId} stopped: its handler failed for event ${eventId}: ${cause.message}`);
    this.name = 'SubscriberHaltedError';
  }
}
