import type { Logger } from 'pino';
import type { ReadFrom } from '../decorators/event-subscriber';
import type { CursorStore } from './cursor-store';
import type { EventSettler } from './event-settler';
import type { FeedLag } from './feed-lag';

/** One subscriber as a source runs it. */
export interface Subscription {
  subscriberId: string;
  /** Where it starts when it has no saved position. */
  readFrom: ReadFrom;
  /** The entity types (Kafka topics, feed filter) it reads. */
  entityTypes: string[];
  /** Decides what becomes of each delivered event (handled, dead-lettered, parked, halted); the source commits only finished prefixes. */
  settler: EventSettler;
  /** Where a feed source keeps this subscriber's position instead of its own cursorStore: a projection keeps it with its view, in its transactions. */
  cursorStore?: CursorStore;
  logger: Logger;
  /** The source cannot read and is retrying (feed errors, a Kafka consumer restarting): shown in the subscriber's status. */
  onSourceError(error: Error): void;
  /** It reads again. */
  onSourceRecovered(): void;
  /** Called when the subscriber stops by itself: its 'stop' failure policy, a dead-letter store that kept failing, or a source failure it cannot recover from. */
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
  /** Where a subscriber stands in the feed and what waits after it (feed sources; Kafka's lag is its consumer group's). */
  position?(subscription: Pick<Subscription, 'subscriberId' | 'entityTypes' | 'cursorStore'>): Promise<{ checkpoint?: string; lag: FeedLag }>;
}
