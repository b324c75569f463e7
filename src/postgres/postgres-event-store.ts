import { ClientBase, CustomTypesConfig, Pool, PoolConfig, QueryConfig } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { resolveRefusedWrite, ExistingEvent } from '../append-outcome';
import { CursorIssuer, encodeCursor, FEED_START, positionIn, refusePastPresent } from '../cursor';
import { EntityNotFoundError, EventNotFoundError, EventStoreError, InvalidCursorError, ServiceUnavailableError, ValidationError } from '../errors';
import type { EventStore } from '../event-store';
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
} from '../model';
import type { JsonTextReads, PackedLoadedEntity } from '../stored-event-text';
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
import { longPoll } from '../long-poll';
import { callerTransaction, TransactionalEventStore } from './caller-transaction';
import { CommitAnnouncer } from './commit-announcer';
import { CommitListener } from './commit-listener';
import { eventsChannel, migrate } from './migrations';
import { buildQueries, Queries } from './queries';
import { isTimeout, isUnavailable, quoteIdent } from './sql';
import { asObjects, asText, readTypes, RowReading } from './row-reading';
import { issuerOf, StoreIdentityRow } from './store-identity';
import { GroupCommitter } from './group-committer';
import { groupWriteQuery } from './group-write-query';
import { Queryable, Row, WriteTarget } from './write-target';
import { newEventId } from '../event-id';

export interface PostgresEventStoreOptions {
  connectionString: string;
  /** Schema of the tables; default `eventuate`. */
  schema?: string;
  /** Connections for reads, the diagnosis of refused writes and commit announcements; default 20. */
  poolSize?: number;
  /**
   * Connections on which the store commits its own creates and appends; default 2. Writes that
   * arrive while all are busy wait and go together, as one group in one transaction (see
   * group-committer.ts): fewer connections, bigger groups. Writes inside `inTransaction` use the
   * caller's connection. Why 2: measured against 1 and 4 in one interleaved run
   * (`BENCH_WRITE_CONNECTIONS=1,2,4 npm run bench -- append`, medians of 5 rounds), 2 led in
   * process (1-event appends at 16 writers: 1.75x bare PostgreSQL, against 1.25x with 1 and 1.53x
   * with 4) and over HTTP with 100-event appends (0.83x in process, against 0.79x and 0.56x): with
   * one, the next group waits for the previous commit's WAL flush; with two, one group executes
   * while the other flushes; with four, writes that arrive one by one over HTTP find a connection
   * free and go in small groups, each paying its own commit. At one writer the count makes no
   * difference (a write that finds a connection free goes at once).
   */
  writeConnections?: number;
  /**
   * Connections of the catch-up pool, apart from the main one, on which `readFeedCatchUp` reads;
   * default 4. Opened only when used.
   */
  catchUpPoolSize?: number;
  /** Apply migrations on connect; default true. */
  migrate?: boolean;
  /**
   * PostgreSQL ends a session of this store's pool that stays idle inside a transaction this long
   * (`idle_in_transaction_session_timeout`), so a stuck process cannot hold back the feed of every
   * reader of this database. Default 10000 ms; 0 turns it off.
   */
  idleInTransactionTimeoutMs?: number;
  /** How often a waiting feed read looks again when no commit was announced; default 1000 ms. */
  feedFallbackPollMs?: number;
  /** Extra node-postgres settings (timeouts, keepalive): of the pool, and of the LISTEN connection where they apply. */
  pool?: Omit<PoolConfig, 'connectionString' | 'max'>;
}

const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** See `writeConnections`. */
export const DEFAULT_WRITE_CONNECTIONS = 2;

/**
 * The event store on PostgreSQL: every write is one statement (alone, or with the writes waiting
 * beside it as one group), every failure an EventStoreError.
 */
export class PostgresEventStore implements EventStore {
  readonly schema: string;
  private readonly pool: Pool;
  /** Feed readers behind the live tail read here, so however many there are, writers keep the main pool. */
  private readonly catchUpPool: Pool;
  private readonly sql: Queries;
  private readonly statementNames: Partial<Record<keyof Queries, string>> = {};
  private readonly commits: CommitListener;
  private readonly announcer: CommitAnnouncer;
  /** Where the store's own writes commit, in groups; their transactions are announced once committed. */
  private readonly writePool: Pool;
  private readonly ownTransactions: GroupCommitter;
  private readonly feedFallbackPollMs?: number;
  private issuer?: Promise<CursorIssuer>;

  /**
   * The reads with event data, metadata and snapshot data as JSON text, for the server: the same
   * queries, checks and answers as load, history, getEvent and readFeed, but the JSON goes from
   * PostgreSQL to the answer without becoming objects. Not part of the EventStore port.
   */
  readonly jsonText: JsonTextReads = {
    load: (entityType, entityId, options) => this.loadPacked(entityType, entityId, options),
    history: (entityType, entityId, options) => this.historyAs(asText, entityType, entityId, options),
    getEvent: (eventId) => this.getEventAs(asText, eventId),
    readFeed: (options = {}) => this.feedOn(this.pool, options, asText),
    readFeedCatchUp: (options = {}) => this.feedOn(this.catchUpPool, options, asText),
  };

  /**
   * Opens the pool, applies pending migrations (under an advisory lock) and reads the store's
   * identity; refuses a database restored into another cluster (DatabaseRestoredError).
   */
  static async connect(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const store = new PostgresEventStore(options);
    try {
      if (options.migrate !== false) await migrate(store.pool, store.schema);
      await store.ready();
    } catch (err) {
      await store.close();
      throw translate(err);
    }
    return store;
  }

  constructor(options: PostgresEventStoreOptions) {
    this.schema = options.schema ?? 'eventuate';
    this.sql = buildQueries(quoteIdent(this.schema));
    const groupWrite = groupWriteQuery(quoteIdent(this.schema));
    const writeConnections = options.writeConnections ?? DEFAULT_WRITE_CONNECTIONS;
    if (!Number.isSafeInteger(writeConnections) || writeConnections < 1) throw new ValidationError(`writeConnections must be an integer of at least 1, not ${writeConnections}`);
    const sessionSettings = {
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      ...options.pool,
      connectionString: options.connectionString,
    };
    // The store's connections, apart from the caller's in inTransaction (the server's plan: connect-store.ts):
    // - writePool (writeConnections): the committers. Appends queue for them and go in groups, so any
    //   number of concurrent appends holds this many connections; more connections make smaller
    //   groups, each paying its own commit.
    // - pool (poolSize): loads, history, the diagnosis of refused writes, NOTIFY of commits, ping,
    //   and feed reads that wait (the live tail).
    // - catchUpPool (catchUpPoolSize, opened when used): feed readers behind the tail take turns here.
    // - one LISTEN connection (CommitListener).
    this.pool = new Pool({ ...sessionSettings, max: options.poolSize ?? 20 });
    this.writePool = new Pool({ ...sessionSettings, max: writeConnections });
    this.catchUpPool = new Pool({ ...sessionSettings, max: options.catchUpPoolSize ?? 4 });
    this.feedFallbackPollMs = options.feedFallbackPollMs;
    // An idle client losing its connection is reported here; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.writePool.on('error', () => undefined);
    this.catchUpPool.on('error', () => undefined);
    const storeId = uuidv4();
    this.commits = new CommitListener({ ...options.pool, connectionString: options.connectionString }, eventsChannel(this.schema), storeId);
    this.announcer = new CommitAnnouncer(this.pool, eventsChannel(this.schema), storeId);
    this.ownTransactions = new GroupCommitter(
      this.writePool,
      writeConnections,
      (membersJson) => ({ name: `eventuate.${this.schema}.groupWrite`, text: groupWrite, values: [membersJson] }),
      () => {
        this.commits.announceLocal();
        this.announcer.announce();
      },
      this.pool,
    );
  }

  async create(request: CreateEntityRequest): Promise<AppendResult> {
    return this.createOn(() => this.ownTransactions, request);
  }

  async append(request: AppendEventsRequest): Promise<AppendResult> {
    return this.appendOn(() => this.ownTransactions, request);
  }

  /**
   * Creates, appends and loads inside a transaction the caller holds on `client` (connected to this
   * store's database, BEGIN sent): the caller's own changes and the events commit together or not at
   * all, a transactional outbox without the outbox. Nothing here sends BEGIN, COMMIT or ROLLBACK.
   * A refused write (OptimisticLockingError, EntityAlreadyExistsError, DuplicateTriggeringEventError)
   * or a failed one leaves the transaction as it was before the write, and usable: each write runs
   * under a savepoint. Await each call before sending the client anything else: a statement of yours
   * run while a write is under way would be undone with it if it is refused.
   * An answer's cursor is where the events will stand in the feed once committed. Each event's
   * createdAt is the time it was written, not the transaction's start. While the transaction is open,
   * it holds back the feed of every reader of this database (its horizon counts the database's
   * transactions): keep it short.
   */
  inTransaction(client: ClientBase): TransactionalEventStore {
    const target = (issuer: CursorIssuer) =>
      callerTransaction(client, { schema: quoteIdent(this.schema), storeId: issuer.storeId, channel: eventsChannel(this.schema) });
    return {
      create: (request) => this.createOn(target, request),
      append: (request) => this.appendOn(target, request),
      load: (entityType, entityId, options) => this.loadOn(client, entityType, entityId, options),
    };
  }

  private async createOn(target: (issuer: CursorIssuer) => WriteTarget, request: CreateEntityRequest): Promise<AppendResult> {
    checkCreateRequest(request);
    return this.write({ ...request, entityId: request.entityId ?? uuidv4(), expectedVersion: 0 }, 'create', target);
  }

  private async appendOn(target: (issuer: CursorIssuer) => WriteTarget, request: AppendEventsRequest): Promise<AppendResult> {
    checkAppendRequest(request);
    return this.write(request, 'append', target);
  }

  private async write(
    request: AppendEventsRequest,
    statement: 'create' | 'append',
    targetFor: (issuer: CursorIssuer) => WriteTarget,
  ): Promise<AppendResult> {
    const issuer = await this.ready();
    const target = targetFor(issuer);
    const { entityType, entityId, expectedVersion, triggeringEventToken, snapshot } = request;
    const events = request.events.map((e) => ({
      eventId: e.eventId?.toLowerCase() ?? newEventId(),
      eventType: e.eventType,
      eventData: e.eventData,
      metadata: e.metadata ?? {},
    }));
    const eventIds = events.map((e) => e.eventId);
    const member = {
      create: statement === 'create',
      entityType,
      entityId,
      expectedVersion,
      eventsJson: JSON.stringify(events),
      triggeringEventToken: triggeringEventToken ?? null,
      snapshotType: snapshot?.snapshotType ?? null,
      snapshotDataJson: snapshot ? JSON.stringify(snapshot.snapshotData) : null,
    };
    const params = [
      entityType,
      entityId,
      expectedVersion,
      events.length,
      member.eventsJson,
      member.triggeringEventToken,
      member.snapshotType,
      member.snapshotDataJson,
    ];
    let written: Row | undefined;
    try {
      written = await target.write({ statement: this.prepared(statement, params), member, eventIds });
    } catch (err) {
      throw translate(err);
    }
    if (!written) return this.explainRefusal(request, issuer, target.reader);
    return {
      entityType,
      entityId,
      entityVersion: written.entity_version,
      eventIds,
      cursor: cursorAt(issuer, written.transaction_id, written.position),
    };
  }

  private async explainRefusal(request: AppendEventsRequest, issuer: CursorIssuer, on: Queryable): Promise<AppendResult> {
    const ids = request.events.flatMap((e) => (e.eventId ? [e.eventId.toLowerCase()] : []));
    const row = await this.query('diagnose', [request.entityType, request.entityId, ids, request.triggeringEventToken ?? null], on);
    const existing = (row[0].existing as Array<Omit<ExistingEvent, 'cursor'> & { transactionId: string; position: string }>).map(
      ({ transactionId, position, ...event }) => ({ ...event, cursor: cursorAt(issuer, transactionId, position) }),
    );
    return resolveRefusedWrite({ ...request, actualVersion: row[0].actual_version ?? undefined, existing, tokenSeen: row[0].token_seen });
  }

  async load(entityType: string, entityId: string, options: LoadOptions = {}): Promise<LoadedEntity> {
    return this.loadOn(this.pool, entityType, entityId, options);
  }

  private async loadOn(on: Queryable, entityType: string, entityId: string, options: LoadOptions = {}): Promise<LoadedEntity> {
    const [head] = await this.read('loadHead', loadHeadParams(entityType, entityId, options), asObjects.types, on);
    if (!head || head.bound === null) throw new EntityNotFoundError(entityType, entityId);
    const from = head.snapshot_version ?? 0;
    const rows = await this.read('eventRange', [entityType, entityId, from, head.bound], asObjects.types, on);
    const entity = { entityType, entityId };
    return {
      entityType,
      entityId,
      entityVersion: head.bound,
      snapshot: head.snapshot_version === null ? undefined : asObjects.snapshot(head),
      events: rows.map((r) => asObjects.event(r, entity)),
    };
  }

  /** load for the server: one statement, the events packed by PostgreSQL (packed-events.ts). */
  private async loadPacked(entityType: string, entityId: string, options: LoadOptions = {}): Promise<PackedLoadedEntity> {
    const [head] = await this.read('loadPacked', loadHeadParams(entityType, entityId, options), asText.types);
    if (!head || head.bound === null) throw new EntityNotFoundError(entityType, entityId);
    return {
      entityType,
      entityId,
      entityVersion: head.bound,
      snapshot: head.snapshot_version === null ? undefined : asText.snapshot(head),
      packedEvents: head.packed_events ?? '',
    };
  }

  async history(entityType: string, entityId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.historyAs(asObjects, entityType, entityId, options);
  }

  private async historyAs<E extends { entityVersion: number }>(
    as: RowReading<E, unknown>,
    entityType: string,
    entityId: string,
    options: HistoryOptions = {},
  ): Promise<HistoryPage<E>> {
    checkEntityType(entityType);
    checkEntityId(entityId);
    const fromVersion = options.fromVersion ?? 1;
    checkVersion(fromVersion, 'fromVersion', 1);
    const limit = pageSize(options.limit);
    const rows = await this.read('history', [entityType, entityId, fromVersion, limit], as.types);
    if (rows.length === 0) throw new EntityNotFoundError(entityType, entityId);
    const entityVersion: number = rows[0].current_version;
    const entity = { entityType, entityId };
    const events = rows.filter((r) => r.event_id !== null).map((r) => as.event(r, entity));
    const last = events.at(-1)?.entityVersion ?? fromVersion - 1;
    const marks = last < fromVersion ? [] : await this.read('snapshotMarks', [entityType, entityId, fromVersion, last], readTypes);
    const snapshots = marks.map((r) => ({
      entityVersion: r.entity_version as number,
      snapshotType: r.snapshot_type as string,
      createdAt: r.created_at as string,
    }));
    return { entityType, entityId, entityVersion, events, snapshots, nextFromVersion: last < entityVersion ? last + 1 : null };
  }

  async getEvent(eventId: string): Promise<StoredEvent> {
    return this.getEventAs(asObjects, eventId);
  }

  private async getEventAs<E>(as: RowReading<E, unknown>, eventId: string): Promise<E> {
    checkEventId(eventId);
    const [row] = await this.read('getEvent', [eventId], as.types);
    if (!row) throw new EventNotFoundError(eventId);
    return as.event(row);
  }

  async saveSnapshot(entityType: string, entityId: string, entityVersion: number, snapshot: SnapshotToSave): Promise<void> {
    checkEntityType(entityType);
    checkEntityId(entityId);
    checkVersion(entityVersion, 'entityVersion', 1);
    checkSnapshot(snapshot);
    const [row] = await this.query('saveSnapshot', [
      entityType,
      entityId,
      entityVersion,
      snapshot.snapshotType,
      JSON.stringify(snapshot.snapshotData),
    ]);
    if (row.current_version === null) throw new EntityNotFoundError(entityType, entityId);
    if (row.stored === 0) {
      throw new ValidationError(`entityVersion ${entityVersion} is past the entity's version ${row.current_version}`, {
        field: 'entityVersion',
      });
    }
  }

  async listEntities(entityType: string, options: ListEntitiesOptions = {}): Promise<EntityPage> {
    checkEntityType(entityType);
    if (options.after !== undefined) checkEntityId(options.after);
    if (options.prefix !== undefined) checkEntityIdPrefix(options.prefix);
    const limit = pageSize(options.limit);
    const rows = await this.read('listEntities', [entityType, options.after ?? null, limit + 1, options.prefix ?? null], readTypes);
    const entities = rows.slice(0, limit).map((r) => ({
      entityId: r.entity_id as string,
      entityVersion: r.entity_version as number,
      createdAt: r.created_at as string,
      updatedAt: r.updated_at as string,
    }));
    return { entities, next: rows.length > limit ? entities[entities.length - 1].entityId : null };
  }

  async listEntityTypes(): Promise<EntityTypeSummary[]> {
    const rows = await this.query('listEntityTypes', []);
    return rows.map((r) => ({ entityType: r.entity_type, entityCount: r.entity_count, eventCount: Number(r.event_count) }));
  }

  async readFeed(options: FeedOptions = {}): Promise<FeedPage> {
    return this.feedOn(this.pool, options, asObjects);
  }

  /**
   * readFeed on the catch-up pool, for readers that are behind the live tail (or read without
   * waiting): their number then never takes a connection from the writers, only a turn in this pool.
   */
  async readFeedCatchUp(options: Omit<FeedOptions, 'waitMs'> = {}): Promise<FeedPage> {
    return this.feedOn(this.catchUpPool, options, asObjects);
  }

  private async feedOn<E extends { cursor?: string }>(pool: Pool, options: FeedOptions, as: RowReading<E, unknown>): Promise<FeedPage<E>> {
    const issuerPromise = this.ready();
    const issuer = await issuerPromise;
    const start = positionIn(options.after, issuer);
    const limit = pageSize(options.limit);
    options.entityTypes?.forEach(checkEntityType);
    const types = options.entityTypes?.length ? options.entityTypes : null;
    return longPoll(
      encodeCursor(issuer.storeId, start),
      async (after) => {
        const position = positionIn(after, issuer);
        const present = await this.presentHorizon(pool, issuerPromise, issuer);
        if (!present) {
          throw new InvalidCursorError(
            `the feed of schema ${this.schema} was renumbered (repair-after-restore) while this store was running: cursors from ` +
              `before (${issuer.storeId}) are no place in it. Start again without a cursor or from a cursor the store gives now`,
          );
        }
        refusePastPresent(position, { transactionId: BigInt(present.xmax) - 1n });
        const rows = await this.read('feed', [position.transactionId.toString(), position.position.toString(), limit, types, present.xmax, present.held], as.types, pool);
        const events = rows.filter((r) => r.event_id !== null).map((r) => as.event(r, undefined, cursorAt(issuer, r.transaction_id, r.position)));
        let cursor = events.at(-1)?.cursor ?? after;
        // Fewer than a page: everything visible was read, including rows the type filter skipped.
        if (events.length < limit && rows[0].newest_transaction_id !== null) cursor = cursorAt(issuer, rows[0].newest_transaction_id, rows[0].newest_position);
        return { events, cursor };
      },
      this.commits,
      { waitMs: options.waitMs ?? 0, signal: options.signal, fallbackPollMs: this.feedFallbackPollMs },
    );
  }

  /**
   * Where the feed ends now: the newest event below the horizon, the cursor a reader that read the
   * whole feed would hold. Two index lookups whatever the feed's length; on the catch-up pool, as a
   * feed read that does not wait.
   */
  async readFeedEnd(): Promise<FeedEnd> {
    for (let attempt = 1; ; attempt++) {
      const issuerPromise = this.ready();
      const issuer = await issuerPromise;
      const present = await this.presentHorizon(this.catchUpPool, issuerPromise, issuer);
      if (!present) {
        // Renumbered by repair-after-restore: the identity was dropped, the end is the new feed's.
        if (attempt < 2) continue;
        throw new Error(`the store identity of schema ${this.schema} changed twice during one read of the feed's end`);
      }
      const [newest] = await this.query('feedEnd', [present.xmax, present.held], this.catchUpPool);
      return { cursor: newest ? cursorAt(issuer, newest.transaction_id, newest.position) : encodeCursor(issuer.storeId, FEED_START) };
    }
  }

  /**
   * The first step of the feed's horizon (see `feedHorizon`: the transactions that may hold it
   * back), from a statement of its own: the read takes the second step with its own, later
   * snapshot, which the horizon's proof needs. Undefined when repair-after-restore renumbered the
   * feed under this store, whose identity is then read again on the next call.
   */
  private async presentHorizon(pool: Pool, issuerPromise: Promise<CursorIssuer>, issuer: CursorIssuer): Promise<Row | undefined> {
    const [present] = await this.query('feedHorizon', [], pool);
    if (present.store_id === issuer.storeId) return present;
    if (this.issuer === issuerPromise) this.issuer = undefined;
    return undefined;
  }

  /** Calls `listener` after events are committed (by any writer of this schema). */
  onCommit(listener: () => void): () => void {
    return this.commits.onCommit(listener);
  }

  /** Throws ServiceUnavailableError when the database cannot be reached. */
  async ping(): Promise<void> {
    await this.query('ping', []);
  }

  async close(): Promise<void> {
    await this.commits.close();
    await Promise.all([this.pool, this.writePool, this.catchUpPool].map((pool) => pool.end().catch(() => undefined)));
  }

  /**
   * The store's identity, read once; refused (DatabaseRestoredError) when its events lie in the
   * cluster's future. Writes wait for it too: appending to a restored database before its repair
   * would mix new events into the restored ones' order.
   */
  private ready(): Promise<CursorIssuer> {
    if (this.issuer) return this.issuer;
    const issuer = this.query('storeIdentity', []).then(
      (rows) => {
        if (rows.length !== 1) throw new Error(`schema ${this.schema} has no store identity: apply the migrations (eventuate-local migrate)`);
        return issuerOf(this.schema, rows[0] as StoreIdentityRow);
      },
      (err: unknown) => {
        if ((err as { code?: string }).code === '42P01') {
          throw new Error(`schema ${this.schema} is not migrated (no store_identity table): apply the migrations (eventuate-local migrate)`);
        }
        throw err;
      },
    );
    // A failure (the database away, a restore not yet repaired) is not remembered: the next call asks again.
    issuer.catch(() => {
      if (this.issuer === issuer) this.issuer = undefined;
    });
    this.issuer = issuer;
    return issuer;
  }

  /**
   * Every statement is prepared once per connection: PostgreSQL then skips parsing and planning,
   * which for the append's CTE is as much work as executing it.
   */
  private prepared(statement: keyof Queries, values: unknown[]): QueryConfig {
    // The name made once: node-postgres looks it up on every query, and a name joined anew each time is a new string to hash.
    this.statementNames[statement] ??= `eventuate.${this.schema}.${statement}`;
    return { name: this.statementNames[statement], text: this.sql[statement], values };
  }

  private async query(statement: keyof Queries, params: unknown[], on: Queryable = this.pool): Promise<Row[]> {
    try {
      return (await on.query(this.prepared(statement, params))).rows;
    } catch (err) {
      throw translate(err);
    }
  }

  /** A read whose columns node-postgres parses with `types` (row-reading.ts: times as ISO text, jsonb as objects or text). */
  private async read(statement: keyof Queries, params: unknown[], types: CustomTypesConfig, on: Queryable = this.pool): Promise<Row[]> {
    try {
      return (await on.query({ ...this.prepared(statement, params), types })).rows;
    } catch (err) {
      throw translate(err);
    }
  }
}

/** The checked parameters of loadHead (and loadPacked). */
function loadHeadParams(entityType: string, entityId: string, options: LoadOptions): unknown[] {
  checkEntityType(entityType);
  checkEntityId(entityId);
  if (options.toVersion !== undefined) checkVersion(options.toVersion, 'toVersion', 1);
  if (options.asOf !== undefined && Number.isNaN(options.asOf.getTime())) throw new ValidationError('asOf must be a valid date');
  return [entityType, entityId, options.toVersion ?? null, options.asOf ?? null, options.useSnapshot !== false];
}

/** The cursor of a feed place as PostgreSQL gives it (xid8 and bigint as text). */
function cursorAt(issuer: CursorIssuer, transactionId: string, position: string): string {
  return encodeCursor(issuer.storeId, { transactionId: BigInt(transactionId), position: BigInt(position) });
}

/** Driver errors become the store's: unreachable database → 503, data PostgreSQL refuses → 400. */
function translate(err: unknown): Error {
  if (err instanceof EventStoreError) return err;
  // The driver's message names the host and port: it goes into `cause` (logged), not into the message (answered).
  if (isTimeout(err)) return new ServiceUnavailableError('the event store database did not answer in time', {}, { cause: err });
  if (isUnavailable(err)) return new ServiceUnavailableError('the event store database is unavailable', {}, { cause: err });
  const code = (err as { code?: string }).code;
  // 22P05: JSON PostgreSQL cannot store (\u0000 in a string); 22xxx: other data exceptions.
  if (code && code.startsWith('22')) return new ValidationError(`the database refused the data: ${(err as Error).message}`);
  return err as Error;
}
