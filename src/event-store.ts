import type {
  AppendEventsRequest,
  AppendResult,
  CreateEntityRequest,
  EntityPage,
  EntityTypeSummary,
  FeedEnd,
  FeedOptions,
  FeedPage,
  HistoryOptions,
  HistoryPage,
  ListEntitiesOptions,
  LoadedEntity,
  LoadOptions,
  SnapshotToSave,
  StoredEvent,
} from './model';

/**
 * The port every store implements: PostgreSQL (in process), HTTP (a remote server) and in-memory.
 * Failures are the classes of `errors.ts`, never driver errors.
 */
export interface EventStore {
  /** Creates an entity with its first events (versions 1..n). EntityAlreadyExistsError if the id is taken. */
  create(request: CreateEntityRequest): Promise<AppendResult>;
  /**
   * Appends events after `expectedVersion`, all or nothing. OptimisticLockingError when the version moved,
   * EntityNotFoundError, DuplicateTriggeringEventError. A retry with the same event ids returns the first result.
   */
  append(request: AppendEventsRequest): Promise<AppendResult>;
  /** The newest snapshot (unless disabled) and the events after it, up to `toVersion`/`asOf`. */
  load(entityType: string, entityId: string, options?: LoadOptions): Promise<LoadedEntity>;
  /** One stored event by its id (what triggering tokens and causation ids name). EventNotFoundError if none has it. */
  getEvent(eventId: string): Promise<StoredEvent>;
  /** The full audit trail, oldest first, paged; never shortened by snapshots, which it marks. */
  history(entityType: string, entityId: string, options?: HistoryOptions): Promise<HistoryPage>;
  /** Stores a snapshot of the state at `entityVersion` (≤ the current version). */
  saveSnapshot(entityType: string, entityId: string, entityVersion: number, snapshot: SnapshotToSave): Promise<void>;
  listEntities(entityType: string, options?: ListEntitiesOptions): Promise<EntityPage>;
  listEntityTypes(): Promise<EntityTypeSummary[]>;
  /** The global, gap-free feed of committed events in commit order. */
  readFeed(options?: FeedOptions): Promise<FeedPage>;
  /** Where the feed ends now, without reading it: start a reader there to get only what commits later. */
  readFeedEnd(): Promise<FeedEnd>;
  close(): Promise<void>;
}
