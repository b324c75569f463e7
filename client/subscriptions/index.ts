/** Subscribers: projections and sagas fed from Kafka or from the event store's feed, at least once, in order per entity. */
export { EventSubscriber, EventHandlerMethod } from '../decorators/event-subscriber';
export type { EventSubscriberOptions, FailurePolicy } from '../decorators/event-subscriber';
export { EventHandlerContext } from './event-handler-context';
export type { HandlerWriteResult } from './event-handler-context';
export { SubscriptionManager } from './subscription-manager';
export type { SubscriptionManagerOptions, SubscriberStatus } from './subscription-manager';
export { kafkaSource, deadLetterTopicFor } from './kafka-source';
export type { KafkaSourceOptions } from './kafka-source';
export { feedSource } from './feed-source';
export type { FeedSourceOptions, FeedReader } from './feed-source';
export { SubscriberHaltedError } from './event-source';
export type { EventSource, RunningSubscription } from './event-source';
export { fileCursorStore, memoryCursorStore } from './cursor-store';
export type { CursorStore } from './cursor-store';
export { postgresCursorStore } from './postgres-cursor-store';
export type { PostgresCursorStoreOptions } from './postgres-cursor-store';
export { fileDeadLetters, memoryDeadLetters } from './dead-letters';
export type { DeadLetter, DeadLetterSink } from './dead-letters';
