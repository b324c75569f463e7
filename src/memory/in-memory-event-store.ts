import { v4 as uuidv4 } from 'uuid';
import { ExistingEvent, resolveRefusedWrite } from '../append-outcome';
import { CursorIssuer, encodeCursor, FEED_START, newStoreId, positionIn, refusePastPresent } from '../cursor';
import { EntityNotFoundError, EventNotFoundError, ValidationError } from '../errors';
import type { EventStore } from '../event-store';
import { CommitWaiter, longPoll, waitForCommit } from '../long-poll';
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
  StoredSnapshot,
} from '../model';
import {
  checkAppendRequest,
  checkCreateRequest,
  checkEntityId,
  checkEntityIdPrefix,
  checkEntityType,
  checkEventId,
  checkSnapshot,
  checkVersion,
  pageSize,
} from '../validation';
import { newEventId } from '../event-id';

interface EntityRecord {
  entityType: string;
  entityId: string;
  createdAt: string;
  updatedAt: string;
  events: StoredEvent[];
  snapshots: StoredSnapshot[];
}

interface FeedEntry {
  event: StoredEvent;
  transactionId: bigint;
  position: bigint;
}

/**
 * The store's semantics in process memory, for unit tests and the test fixture: the same
 * validation, versioning, idempotency and errors as PostgreSQL, nothing persisted.
 * Each write is one "transaction", so the feed order is the write order.
 */
export interface InMemoryEventStoreOptions {
  /** How often a waiting feed read looks again when no commit was announced; default 1000 ms. */
  feedFallbackPollMs?: number;
}

export class InMemoryEventStore implements EventStore, CommitWaiter {
  private readonly entities = new Map<string, EntityRecord>();
  private readonly eventsById = new Map<string, ExistingEvent>();
  private readonly feed: FeedEntry[] = [];
  private readonly listeners = new Set<() => void>();
  private transactions = 0n;
  /** Each instance is a store of its own: a cursor from another one (or from before a restart) is refused. */
  private readonly issuer: CursorIssuer = { storeId: newStoreId(), acceptsUnidentifiedCursors: false };

  constructor(private readonly options: InMemoryEventStoreOptions = {}) {}

  async create(request: CreateEntityRequest): Promise<AppendResult> {
    checkCreateRequest(request);
    return this.write({ ...request, entityId: request.entityId ?? uuidv4(), expectedVersion: 0 });
  }

  async append(request: AppendEventsRequest): Promise<AppendResult> {
    checkAppendRequest(request);
    return this.write(request);
  }

  private write(request: AppendEventsRequest): AppendResult {
    const { entityType, entityId, expectedVersion, triggeringEventToken } = request;
    const key = keyOf(entityType, entityId);
    const record = this.entities.get(key);
    const actualVersion = record?.events.length;
    const existing = request.events.flatMap((e) => {
      const found = e.eventId && this.eventsById.get(e.eventId.toLowerCase());
      return found ? [found] : [];
    });
    const tokenSeen = triggeringEventToken !== undefined && !!record?.events.some((e) => e.triggeringEventToken === triggeringEventToken);
    const accepted = expectedVersion === 0 ? record === undefined : actualVersion === expectedVersion;
    if (!accepted || tokenSeen || existing.length > 0) {
      return resolveRefusedWrite({ ...request, actualVersion, existing, tokenSeen });
    }
    const now = new Date().toISOString();
    const target: EntityRecord = record ?? { entityType, entityId, createdAt: now, updatedAt: now, events: [], snapshots: [] };
    const transactionId = ++this.transactions;
    const stored = request.events.map((e, i) => {
      const event: StoredEvent = {
        eventId: e.eventId?.toLowerCase() ?? newEventId(),
        entityType,
        entityId,
        entityVersion: expectedVersion + i + 1,
        eventType: e.eventType,
        eventData: structuredClone(e.eventData),
        metadata: structuredClone(e.metadata ?? {}),
        createdAt: now,
      };
      if (triggeringEventToken !== undefined) event.triggeringEventToken = triggeringEventToken;
      return event;
    });
    for (const event of stored) {
      const entry: FeedEntry = { event, transactionId, position: BigInt(this.feed.length + 1) };
      target.events.push(event);
      this.feed.push(entry);
      this.eventsById.set(event.eventId, { eventId: event.eventId, entityType, entityId, entityVersion: event.entityVersion, cursor: this.cursorOf(entry) });
    }
    target.updatedAt = now;
    if (request.snapshot) target.snapshots.push(snapshotAt(target.events.length, request.snapshot, now));
    this.entities.set(key, target);
    for (const listener of [...this.listeners]) listener();
    return {
      entityType,
      entityId,
      entityVersion: target.events.length,
      eventIds: stored.map((e) => e.eventId),
      cursor: this.cursorOf(this.feed.at(-1)!),
    };
  }

  async load(entityType: string, entityId: string, options: LoadOptions = {}): Promise<LoadedEntity> {
    const record = this.find(entityType, entityId);
    if (options.toVersion !== undefined) checkVersion(options.toVersion, 'toVersion', 1);
    if (options.asOf !== undefined && Number.isNaN(options.asOf.getTime())) throw new ValidationError('asOf must be a valid date');
    let bound = Math.min(options.toVersion ?? record.events.length, record.events.length);
    if (options.asOf) {
      const asOf = options.asOf.getTime();
      bound = record.events.filter((e) => Date.parse(e.createdAt) <= asOf).length;
      if (bound === 0) throw new EntityNotFoundError(entityType, entityId);
    }
    const snapshot =
      options.useSnapshot === false
        ? undefined
        : record.snapshots.filter((s) => s.entityVersion <= bound).sort((a, b) => b.entityVersion - a.entityVersion)[0];
    return {
      entityType,
      entityId,
      entityVersion: bound,
      snapshot: snapshot && structuredClone(snapshot),
      events: structuredClone(record.events.slice(snapshot?.entityVersion ?? 0, bound)),
    };
  }

  async history(entityType: string, entityId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const record = this.find(entityType, entityId);
    const fromVersion = options.fromVersion ?? 1;
    checkVersion(fromVersion, 'fromVersion', 1);
    const limit = pageSize(options.limit);
    const events = structuredClone(record.events.slice(fromVersion - 1, fromVersion - 1 + limit));
    const entityVersion = record.events.length;
    const last = events.at(-1)?.entityVersion ?? fromVersion - 1;
    const snapshots = record.snapshots
      .filter((s) => s.entityVersion >= fromVersion && s.entityVersion <= last)
      .sort((a, b) => a.entityVersion - b.entityVersion)
      .map(({ entityVersion, snapshotType, createdAt }) => ({ entityVersion, snapshotType, createdAt }));
    return { entityType, entityId, entityVersion, events, snapshots, nextFromVersion: last < entityVersion ? last + 1 : null };
  }

  async getEvent(eventId: string): Promise<StoredEvent> {
    checkEventId(eventId);
    const found = this.eventsById.get(eventId.toLowerCase());
    if (!found) throw new EventNotFoundError(eventId);
    return structuredClone(this.find(found.entityType, found.entityId).events[found.entityVersion - 1]);
  }

  async saveSnapshot(entityType: string, entityId: string, entityVersion: number, snapshot: SnapshotToSave): Promise<void> {
    const record = this.find(entityType, entityId);
    checkVersion(entityVersion, 'entityVersion', 1);
    checkSnapshot(snapshot);
    if (entityVersion > record.events.length) {
      throw new ValidationError(`entityVersion ${entityVersion} is past the entity's version ${record.events.length}`, {
        field: 'entityVersion',
      });
    }
    record.snapshots = record.snapshots.filter((s) => s.entityVersion !== entityVersion);
    record.snapshots.push(snapshotAt(entityVersion, snapshot, new Date().toISOString()));
  }

  async listEntities(entityType: string, options: ListEntitiesOptions = {}): Promise<EntityPage> {
    checkEntityType(entityType);
    if (options.after !== undefined) checkEntityId(options.after);
    const prefix = options.prefix;
    if (prefix !== undefined) checkEntityIdPrefix(prefix);
    const limit = pageSize(options.limit);
    const all = [...this.entities.values()]
      .filter((r) => r.entityType === entityType && (options.after === undefined || r.entityId > options.after))
      .filter((r) => prefix === undefined || r.entityId.startsWith(prefix))
      .sort((a, b) => (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0));
    const entities = all.slice(0, limit).map((r) => ({
      entityId: r.entityId,
      entityVersion: r.events.length,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    }));
    return { entities, next: all.length > limit ? entities[entities.length - 1].entityId : null };
  }

  async listEntityTypes(): Promise<EntityTypeSummary[]> {
    const byType = new Map<string, EntityTypeSummary>();
    for (const r of this.entities.values()) {
      const summary = byType.get(r.entityType) ?? { entityType: r.entityType, entityCount: 0, eventCount: 0 };
      summary.entityCount += 1;
      summary.eventCount += r.events.length;
      byType.set(r.entityType, summary);
    }
    return [...byType.values()].sort((a, b) => (a.entityType < b.entityType ? -1 : 1));
  }

  async readFeed(options: FeedOptions = {}): Promise<FeedPage> {
    const start = positionIn(options.after, this.issuer);
    refusePastPresent(start, { transactionId: this.transactions, position: BigInt(this.feed.length) });
    const limit = pageSize(options.limit);
    options.entityTypes?.forEach(checkEntityType);
    const types = options.entityTypes?.length ? new Set(options.entityTypes) : undefined;
    const read = async (after: string): Promise<FeedPage> => {
      const from = positionIn(after, this.issuer);
      // Positions are dense and 1-based, so the first unread entry is at index `position`.
      const unread = this.feed.slice(Number(from.position));
      const matching = types ? unread.filter((f) => types.has(f.event.entityType)) : unread;
      const page = matching.slice(0, limit);
      const lastRead = page.length < limit ? unread.at(-1) : page.at(-1);
      return {
        events: page.map((f) => ({ ...structuredClone(f.event), cursor: this.cursorOf(f) })),
        cursor: lastRead ? this.cursorOf(lastRead) : after,
      };
    };
    return longPoll(encodeCursor(this.issuer.storeId, start), read, this, {
      waitMs: options.waitMs ?? 0,
      signal: options.signal,
      fallbackPollMs: this.options.feedFallbackPollMs,
    });
  }

  async readFeedEnd(): Promise<FeedEnd> {
    const last = this.feed.at(-1);
    return { cursor: last ? this.cursorOf(last) : encodeCursor(this.issuer.storeId, FEED_START) };
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForCommit(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return waitForCommit((listener) => this.onCommit(listener), timeoutMs, signal);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private cursorOf(entry: FeedEntry): string {
    return encodeCursor(this.issuer.storeId, { transactionId: entry.transactionId, position: entry.position });
  }

  private find(entityType: string, entityId: string): EntityRecord {
    checkEntityType(entityType);
    checkEntityId(entityId);
    const record = this.entities.get(keyOf(entityType, entityId));
    if (!record) throw new EntityNotFoundError(entityType, entityId);
    return record;
  }
}

function keyOf(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}

function snapshotAt(entityVersion: number, snapshot: SnapshotToSave, createdAt: string): StoredSnapshot {
  return { entityVersion, snapshotType: snapshot.snapshotType, snapshotData: structuredClone(snapshot.snapshotData), createdAt };
}
