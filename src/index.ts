/** eventuate-local-ts core: the event model, errors, the EventStore port and its PostgreSQL and in-memory engines. */
export * from './model';
export * from './errors';
export * from './event-store';
export * from './names';
export { compareCursors } from './cursor';
export { PostgresEventStore, PostgresEventStoreOptions } from './postgres/postgres-event-store';
export type { TransactionalEventStore } from './postgres/caller-transaction';
export { DatabaseRestoredError } from './postgres/store-identity';
export { InMemoryEventStore, InMemoryEventStoreOptions } from './memory/in-memory-event-store';
