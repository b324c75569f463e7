/** eventuate-local-ts client: decorated aggregates, serialization, the repository and the stores. */
import 'reflect-metadata';

export { Aggregate, Apply, Process } from './decorators/aggregate';
export { DomainEvent } from './decorators/domain-event';
export { ValueObject } from './decorators/value-object';
export type { ValueObjectOptions } from './decorators/value-object';
export type { FieldTypes } from './field-types';
export { Type } from 'class-transformer';

export type { AggregateClass, AggregateOptions } from './decorators/aggregate-registry';
export { aggregateClassFor } from './decorators/aggregate-registry';
export type { DomainEventOptions, EventClass, EventTypeInfo, Upcaster } from './decorators/event-registry';
export { eventClassFor, eventTypeInfoFor, eventTypeOf } from './decorators/event-registry';
export type { SerializedEvent } from './serialization';
export { deserializeEvent, deserializeStoredEvent, fromJsonObject, serializeEvent, toJsonObject } from './serialization';
export { upcastEventData } from './upcasting';
export type { EventMetadataOptions } from './event-metadata';
export { EVENT_METADATA_KEYS, schemaVersionOf } from './event-metadata';
export type { SnapshotStrategy } from './snapshot-strategy';

export { AggregateRepository } from './aggregate-repository';
export type {
  AggregateRepositoryOptions,
  EntityStore,
  EntityWithIdAndVersion,
  EntityWriteResult,
  FindOptions,
  SaveOptions,
  UpdateOptions,
} from './aggregate-repository';

export { RegistrationError } from './registration-error';
export { EventDeserializationError, EventReplayError } from './event-deserialization-error';
export {
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  EventStoreError,
  InvalidCursorError,
  OptimisticLockingError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../src/errors';
export type { EventStore } from '../src/event-store';
export type { AppendResult, JsonObject, StoredEvent } from '../src/model';
export { compareCursors } from '../src/cursor';
export { PostgresEventStore } from '../src/postgres/postgres-event-store';
export type { PostgresEventStoreOptions } from '../src/postgres/postgres-event-store';
export type { TransactionalEventStore } from '../src/postgres/caller-transaction';
export { InMemoryEventStore } from '../src/memory/in-memory-event-store';
export { HttpEventStore } from './http-event-store';
export type { HttpEventStoreOptions } from './http-event-store';

export * from './subscriptions';
export * from './projections';
export * from './sagas';
export * from './deadlines';
