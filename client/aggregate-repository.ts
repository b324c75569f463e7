import { randomUUID } from 'node:crypto';
import { DuplicateTriggeringEventError, OptimisticLockingError, ValidationError } from '../src/errors';
import type { EventStore } from '../src/event-store';
import type { EventToAppend, LoadedEntity, SnapshotToSave } from '../src/model';
import { applyNewEvents, applyStoredEvents, processCommand, restoreSnapshot, snapshotOf } from './aggregate-runtime';
import { buildEventMetadata, type EventMetadataOptions } from './event-metadata';
import { aggregateModelOf, type AggregateClass, type AggregateModel } from './decorators/aggregate-registry';
import { jitteredBackoffMs, sleep } from '../src/backoff';
import { requireRoundTrip, serializeEvent } from './serialization';
import { shouldTakeSnapshot, type SnapshotStrategy } from './snapshot-strategy';
import { newEventId } from '../src/event-id';

export interface AggregateRepositoryOptions<A> {
  /** How many times `update` runs the command against a fresh read when writers collide. Default 10. */
  maxAttempts?: number;
  /** Backoff between attempts: a random delay below min(maxMs, baseMs · 2^(n-1)). Defaults 10 and 1000 ms. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Overrides the snapshot strategy of @Aggregate; false: this repository writes no snapshots. */
  snapshots?: SnapshotStrategy<A> | false;
}

export interface SaveOptions extends EventMetadataOptions {
  /** The new entity's id; a UUID when absent. */
  entityId?: string;
  /** Identifies the message that caused this write; the store rejects a second write with the same token. */
  triggeringEventToken?: string;
}

export interface UpdateOptions extends EventMetadataOptions {
  /** Identifies the message that caused this write; DuplicateTriggeringEventError when it was already applied. */
  triggeringEventToken?: string;
}

export interface FindOptions {
  /** The state as of this version (inclusive). */
  toVersion?: number;
  /** The state as of this instant. */
  asOf?: Date;
  /** false: rebuild from every event, ignoring snapshots. Default true. */
  useSnapshot?: boolean;
}

export interface EntityWithIdAndVersion<A> {
  entity: A;
  entityId: string;
  entityVersion: number;
}

/**
 * What a repository needs of a store: any EventStore, or `postgresStore.inTransaction(client)`, whose
 * writes commit with the caller's transaction (a projection handler's `ctx.db`, a service's own).
 */
export type EntityStore = Pick<EventStore, 'create' | 'append' | 'load'>;

export interface EntityWriteResult<A> extends EntityWithIdAndVersion<A> {
  /** The written entity's type: with entityId and entityVersion, what a projection's waitFor waits for. */
  entityType: string;
  /** The ids of the events written, in order; empty when the command produced none. */
  eventIds: string[];
  /**
   * The feed cursor of the last event written (see AppendResult.cursor): a reader at or past it
   * (compareCursors) has seen this write. Absent when nothing was written: the command produced no
   * events (or, for a subscriber's write, an earlier delivery made it).
   */
  cursor?: string;
}

interface RebuiltEntity<A> extends EntityWithIdAndVersion<A> {
  /** The version of the snapshot the state started from; 0 when it was replayed from the first event. */
  snapshotVersion: number;
  loaded: LoadedEntity;
}

const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_BACKOFF = { baseMs: 10, maxMs: 1000 };

/** Creates, updates and rebuilds entities of one @Aggregate class through an EventStore. */
export class AggregateRepository<A> {
  private readonly model: AggregateModel<A>;
  private readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly snapshots: SnapshotStrategy<A> | undefined;

  constructor(
    aggregateClass: AggregateClass<A>,
    private readonly store: EntityStore,
    options: AggregateRepositoryOptions<A> = {},
  ) {
    this.model = aggregateModelOf(aggregateClass);
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, not ${options.maxAttempts}`);
    }
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.snapshots = options.snapshots === false ? undefined : (options.snapshots ?? this.model.snapshots);
  }

  get entityType(): string {
    return this.model.entityType;
  }

  /** Runs `command` on a new instance and creates the entity from the events it returns. */
  async save(command: object, options: SaveOptions = {}): Promise<EntityWriteResult<A>> {
    const entity = new this.model.aggregateClass();
    const events = processCommand(this.model, entity, command);
    if (events.length === 0) {
      throw new ValidationError(
        `${command.constructor.name} produced no events, so there is nothing to create a ${this.model.entityType} from`,
      );
    }
    applyNewEvents(this.model, entity, events);
    const entityId = options.entityId ?? randomUUID();
    const result = await this.store.create({
      entityType: this.model.entityType,
      entityId,
      events: this.toAppend(events, options),
      triggeringEventToken: options.triggeringEventToken,
      snapshot: this.snapshotIfDue(entity, events.length, events.length),
    });
    return { entity, entityType: result.entityType, entityId: result.entityId, entityVersion: result.entityVersion, eventIds: result.eventIds, cursor: result.cursor };
  }

  /**
   * Loads the entity, runs `command` on it and appends the events it returns at the version read.
   * When another writer got there first, reads again and reruns the command, up to maxAttempts.
   */
  async update(entityId: string, command: object, options: UpdateOptions = {}): Promise<EntityWriteResult<A>> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.rebuild(entityId, {});
      this.rejectKnownTriggeringEvent(current, options.triggeringEventToken);
      const events = processCommand(this.model, current.entity, command);
      if (events.length === 0) {
        return { entity: current.entity, entityType: this.model.entityType, entityId, entityVersion: current.entityVersion, eventIds: [] };
      }
      applyNewEvents(this.model, current.entity, events);
      const newVersion = current.entityVersion + events.length;
      try {
        const result = await this.store.append({
          entityType: this.model.entityType,
          entityId,
          expectedVersion: current.entityVersion,
          events: this.toAppend(events, options),
          triggeringEventToken: options.triggeringEventToken,
          snapshot: this.snapshotIfDue(current.entity, newVersion, newVersion - current.snapshotVersion),
        });
        return { entity: current.entity, entityType: result.entityType, entityId, entityVersion: result.entityVersion, eventIds: result.eventIds, cursor: result.cursor };
      } catch (error) {
        if (!(error instanceof OptimisticLockingError)) throw error;
        if (attempt >= this.maxAttempts) {
          throw new OptimisticLockingError(
            error.entityType,
            error.entityId,
            error.expectedVersion,
            error.actualVersion,
            `${error.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`,
          );
        }
        await sleep(jitteredBackoffMs(attempt, this.backoff));
      }
    }
  }

  /** The entity rebuilt from its newest snapshot and later events (or all events), at the version asked. */
  async find(entityId: string, options: FindOptions = {}): Promise<EntityWithIdAndVersion<A>> {
    const { entity, entityVersion } = await this.rebuild(entityId, options);
    return { entity, entityId, entityVersion };
  }

  private async rebuild(entityId: string, options: FindOptions): Promise<RebuiltEntity<A>> {
    const { entityType } = this.model;
    let loaded = await this.store.load(entityType, entityId, options);
    let entity = loaded.snapshot ? restoreSnapshot(this.model, loaded.snapshot) : undefined;
    if (loaded.snapshot && entity === undefined) {
      // The snapshot was written for another snapshotVersion of the class: replay everything.
      loaded = await this.store.load(entityType, entityId, { ...options, useSnapshot: false });
    }
    const snapshotVersion = entity === undefined ? 0 : loaded.snapshot!.entityVersion;
    entity ??= new this.model.aggregateClass();
    applyStoredEvents(this.model, entity, loaded.events);
    return { entity, entityId, entityVersion: loaded.entityVersion, snapshotVersion, loaded };
  }

  /** A token seen among the loaded events is certainly a duplicate; the store checks the rest. */
  private rejectKnownTriggeringEvent(current: RebuiltEntity<A>, token: string | undefined): void {
    if (token === undefined) return;
    if (current.loaded.events.some((event) => event.triggeringEventToken === token)) {
      throw new DuplicateTriggeringEventError(this.model.entityType, current.entityId, token, current.entityVersion);
    }
  }

  /**
   * Fresh event ids per attempt: a store-level retry of this attempt reuses them and stays idempotent.
   * Each event must read back exactly as it was decided before anything is written.
   */
  private toAppend(events: readonly object[], options: EventMetadataOptions): EventToAppend[] {
    return events.map((event) => {
      const serialized = serializeEvent(event);
      requireRoundTrip(event, serialized);
      const { eventType, eventData, schemaVersion } = serialized;
      return { eventId: newEventId(), eventType, eventData, metadata: buildEventMetadata(schemaVersion, options) };
    });
  }

  private snapshotIfDue(entity: A, entityVersion: number, eventsSinceSnapshot: number): SnapshotToSave | undefined {
    return shouldTakeSnapshot(this.snapshots, entity, entityVersion, eventsSinceSnapshot)
      ? snapshotOf(this.model, entity)
      : undefined;
  }
}
