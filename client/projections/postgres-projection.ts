import { Pool, type PoolClient } from 'pg';
import pino, { type Logger } from 'pino';
import { compareCursors } from '../../src/cursor';
import { InvalidCursorError } from '../../src/errors';
import { HttpEventStore } from '../http-event-store';
import { projectionModelOf, type ProjectionModel } from '../decorators/projection';
import type { CursorStore } from '../subscriptions/cursor-store';
import { entityTypesOf } from '../subscriptions/subscriber-entity-types';
import type { SubscriberRuntime } from '../subscriptions/subscriber-runtime';
import { entityTypesChange, onNewEntityTypesOption, type OnNewEntityTypes } from './projection-entity-types';
import { ProjectionEntityTypesError, ProjectionStoppedError, ProjectionVersionError, ProjectionWaitTimeoutError } from './projection-errors';
import { rebuildProjection, type RebuildFeed, type RebuildOptions, type RebuildResult } from './projection-rebuild';
import { ProjectionRunner, copyLockKey, scopeToCopy } from './projection-runner';
import { STATE_TABLE, advanceCheckpoint, appliedVersion, createBookkeeping, readState, type ProjectionState } from './projection-tables';

/** A class with @Projection: its handlers and the tables they write. */
export interface ProjectionClass {
  createTables(db: PoolClient): Promise<unknown>;
}

export interface PostgresProjectionOptions {
  /** The database of the projection's tables: the event store's or any other. Or give `pool`. */
  connectionString?: string;
  pool?: Pool;
  /** The schema of its tables (created by it; nothing else belongs there). Default: the projection's name. */
  schema?: string;
  /** Where rebuild() reads the events: any EventStore, or the server ({ url, apiKey? }). Needed for rebuilds. */
  feed?: RebuildFeed | { url: string; apiKey?: string };
  /** When the tables were built by another version of the projection: rebuild them at start (the old ones serve meanwhile) instead of refusing to start. Default false. */
  rebuildOnVersionChange?: boolean;
  /**
   * When it reads entity types its tables were not built from (a type added to entityTypes later)
   * and its checkpoint is past their earlier events: 'refuse' (default): start fails with
   * ProjectionEntityTypesError; 'rebuild': the tables are rebuilt from the feed first (the old ones
   * serve meanwhile), and the new types recorded once that succeeded.
   */
  onNewEntityTypes?: OnNewEntityTypes;
  logger?: Logger;
}

/**
 * What to wait for: a write as the repositories and stores answer it (its entity's version: exact
 * whatever the source, and not held up by other entities' dead letters), or a feed position
 * (`{ cursor }`: the projection's feed checkpoint has reached it; feed sources only).
 */
export type WrittenPosition = { entityType: string; entityId: string; entityVersion: number } | { cursor: string };

const SCHEMA = /^[a-z_][a-z0-9_]{0,48}$/;

/** A @Projection instance with its tables in PostgreSQL, to add to a SubscriptionManager. */
export function postgresProjection<P extends ProjectionClass>(projection: P, options: PostgresProjectionOptions): PostgresProjection<P> {
  return new PostgresProjection(projection, options);
}

/**
 * Runs a projection's handlers in transactions that also record what they applied (see
 * ProjectionRunner), keeps its feed checkpoint in its schema, rebuilds it blue-green, and lets a
 * writer wait until it shows a write.
 */
export class PostgresProjection<P extends ProjectionClass = ProjectionClass> implements SubscriberRuntime {
  readonly model: ProjectionModel;
  readonly name: string;
  readonly schema: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private logger: Logger;
  private waiters = new Set<() => void>();
  private haltedBy?: Error;
  private readonly applied = { applied: 0, redeliveries: 0 };
  private rebuilding = false;
  private readonly onNewEntityTypes: OnNewEntityTypes;

  constructor(
    readonly projection: P,
    private readonly options: PostgresProjectionOptions,
  ) {
    this.model = projectionModelOf(projection);
    this.name = this.model.projectionName;
    this.schema = options.schema ?? this.name;
    if (!SCHEMA.test(this.schema)) throw new TypeError(`postgresProjection: schema must match ${SCHEMA.source}, not ${JSON.stringify(this.schema)}`);
    if (!options.pool && !options.connectionString) throw new TypeError(`postgresProjection(${this.name}) needs the database of its tables: { connectionString } or { pool }`);
    this.pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: 4 });
    this.ownsPool = !options.pool;
    if (this.ownsPool) this.pool.on('error', () => undefined);
    this.onNewEntityTypes = onNewEntityTypesOption(options.onNewEntityTypes, `postgresProjection(${this.name})`);
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  }

  get subscriberModel() {
    return this.model.subscriber;
  }

  get state(): 'rebuilding' | undefined {
    return this.rebuilding ? 'rebuilding' : undefined;
  }

  /** The entity types it reads: declared, or those whose aggregates apply its handled events. */
  get entityTypes(): string[] {
    return entityTypesOf(this.model.subscriber);
  }

  async open(logger: Logger): Promise<{ runner: ProjectionRunner; cursorStore: CursorStore }> {
    this.logger = logger;
    this.haltedBy = undefined;
    await this.prepare();
    const runner = new ProjectionRunner(this.projection, this.model, this.pool, this.schema, logger, (counts) => this.committed(counts));
    return { runner, cursorStore: this.cursorStore() };
  }

  async closed(error?: Error): Promise<void> {
    this.haltedBy = error && withProjectionAdvice(this.name, error);
    this.committed({ applied: 0, redeliveries: 0 });
    if (error) await this.pool.query(`UPDATE "${this.schema}".${STATE_TABLE} SET halted_error = $1, updated_at = now()`, [`${this.haltedBy!.name}: ${this.haltedBy!.message}`]);
  }

  /** Since this object was made: events applied, and redeliveries passed over (each delivered again after it was applied). */
  get counts(): { applied: number; redeliveries: number } {
    return { ...this.applied };
  }

  /** Its bookkeeping as stored: version, checkpoint, newest applied event's time, why it halted. */
  async checkpoint(): Promise<ProjectionState | undefined> {
    return readState(this.pool, this.schema);
  }

  /**
   * Resolves once the projection has applied `written` (an append's or save's answer: its entity's
   * version; or a feed `cursor`), so a handler can answer with the updated view. Rejects with
   * ProjectionWaitTimeoutError after `timeoutMs` (default 5000), saying how far it got and why it
   * stopped if it did. Works from any process that reaches the projection's database.
   */
  async waitFor(written: WrittenPosition, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5000;
    if ('entityType' in written && !this.entityTypes.includes(written.entityType)) {
      throw new TypeError(`projection '${this.name}' does not read entity type '${written.entityType}' (it reads ${this.entityTypes.join(', ')}): it will never apply that write`);
    }
    const deadline = Date.now() + timeoutMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      if (await this.hasApplied(written)) return;
      // Stopped in this process: it will not get there, so say so now rather than at the deadline.
      if (this.haltedBy) throw new ProjectionStoppedError(this.name, describeWrite(written), await this.reached(written), this.haltedBy);
      const left = deadline - Date.now();
      if (left <= 0) throw new ProjectionWaitTimeoutError(this.name, describeWrite(written), timeoutMs, await this.reached(written), this.haltedBy);
      // Woken by a commit in this process; polls for a runner in another.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(pause, left));
        this.waiters.add(wake);
      });
    }
  }

  /**
   * Replays the feed into a fresh copy and switches over (see rebuildProjection); the current tables
   * serve meanwhile. Reads the feed given here, else the one given to postgresProjection.
   */
  async rebuild(options: RebuildOptions & { feed?: RebuildFeed } = {}): Promise<RebuildResult> {
    const feed = options.feed ?? this.feed();
    this.rebuilding = true;
    try {
      return await rebuildProjection(
        { pool: this.pool, projection: this.projection, model: this.model, schema: this.schema, entityTypes: this.entityTypes, feed, logger: this.logger },
        options,
      );
    } finally {
      this.rebuilding = false;
    }
  }

  /** Whether it was given a feed to rebuild from. */
  get hasFeed(): boolean {
    return this.options.feed !== undefined;
  }

  /** Ends the connection pool it made (not one it was given). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /**
   * Creates the tables on first start; checks (or rebuilds for) the version and the entity types;
   * records the entity types read now (only once a rebuild they needed succeeded: one cut short
   * leaves the old ones recorded, so the next start checks again); clears a recorded halt.
   */
  private async prepare(): Promise<void> {
    let state = await readState(this.pool, this.schema);
    if (!state) {
      await this.createLiveCopy();
      state = await readState(this.pool, this.schema);
    }
    if (state && state.projection !== this.name) {
      throw new TypeError(`schema ${this.schema} holds projection '${state.projection}', not '${this.name}': give this one a schema of its own`);
    }
    if (state && state.version !== this.model.version) {
      if (!this.options.rebuildOnVersionChange) throw new ProjectionVersionError(this.name, this.schema, state.version, this.model.version);
      this.logger.info({ subscriberId: this.name, built: state.version, version: this.model.version }, 'projection version changed: rebuilding (the old tables serve meanwhile)');
      await this.rebuild(); // from the feed of every type it reads now, the added ones included
    } else {
      await this.checkEntityTypes(state);
    }
    await this.pool.query(`UPDATE "${this.schema}".${STATE_TABLE} SET halted_error = NULL, entity_types = $1`, [this.entityTypes]);
  }

  /** Refuses (or rebuilds for) entity types added since its tables were built, whose earlier events its checkpoint has passed. */
  private async checkEntityTypes(state: ProjectionState | undefined): Promise<void> {
    const { added, removed } = entityTypesChange(state, this.entityTypes, this.model.subscriber.readFrom);
    if (removed.length > 0) this.logger.info({ subscriberId: this.name, removed }, 'projection no longer reads these entity types; their rows stay as they were');
    if (added.length === 0) return;
    if (this.onNewEntityTypes === 'refuse') throw new ProjectionEntityTypesError(this.name, added);
    this.logger.info({ subscriberId: this.name, added }, 'projection reads entity types its tables were not built from: rebuilding (the old tables serve meanwhile)');
    await this.rebuild();
  }

  /** First start: the schema, the projection's tables and the bookkeeping, in one transaction under the copy's lock. */
  private async createLiveCopy(): Promise<void> {
    const db = await this.pool.connect();
    try {
      await db.query(`BEGIN; SELECT pg_advisory_xact_lock(${copyLockKey(this.schema)})`);
      if (await readState(db, this.schema)) return void (await db.query('COMMIT')); // another process made it meanwhile
      const { rows } = await db.query(`SELECT to_regnamespace($1) IS NOT NULL AS present`, [`"${this.schema}"`]);
      if (rows[0].present) {
        throw new TypeError(
          `projection '${this.name}': schema ${this.schema} exists but holds no projection bookkeeping, so it is not this projection's. Give the projection another schema ({ schema }), or drop that one if it is a leftover`,
        );
      }
      await db.query(`CREATE SCHEMA "${this.schema}"; ${scopeToCopy(this.schema)}`);
      await this.projection.createTables(db);
      await createBookkeeping(db, this.name, this.model.version, this.entityTypes);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  /** The checkpoint in the projection's schema, for a feed source: only ever moved forward. */
  private cursorStore(): CursorStore {
    return {
      load: async () => (await readState(this.pool, this.schema))?.cursor,
      save: async (_name, cursor) => advanceCheckpoint(this.pool, cursor, undefined, this.schema),
    };
  }

  private feed(): RebuildFeed {
    const feed = this.options.feed;
    if (!feed) throw new TypeError(`projection '${this.name}': rebuild needs postgresProjection(..., { feed }): the event store (any EventStore) or { url } of the server`);
    return 'readFeed' in feed ? feed : new HttpEventStore({ url: feed.url, apiKey: feed.apiKey });
  }

  private committed(counts: { applied: number; redeliveries: number }): void {
    this.applied.applied += counts.applied;
    this.applied.redeliveries += counts.redeliveries;
    for (const wake of [...this.waiters]) wake();
  }

  private async hasApplied(written: WrittenPosition): Promise<boolean> {
    if (isEntityWrite(written)) return (await appliedVersion(this.pool, this.schema, written.entityType, written.entityId)) >= written.entityVersion;
    const checkpoint = (await readState(this.pool, this.schema))?.cursor;
    if (checkpoint === undefined) return false;
    return compareCursors(checkpoint, written.cursor) >= 0;
  }

  private async reached(written: WrittenPosition): Promise<string> {
    if (isEntityWrite(written)) return `version ${await appliedVersion(this.pool, this.schema, written.entityType, written.entityId)} of ${written.entityType}/${written.entityId}`;
    return `the feed up to ${(await readState(this.pool, this.schema))?.cursor ?? 'its start'}`;
  }
}

/**
 * A write that names its entity is waited for by the entity's version, even when it also carries a
 * cursor (a repository's answer has both): that works from any source, whereas only feed sources
 * move the checkpoint a cursor is compared with (a Kafka-fed projection would never reach it).
 */
function isEntityWrite(written: WrittenPosition): written is { entityType: string; entityId: string; entityVersion: number } {
  return 'entityType' in written;
}

function describeWrite(written: WrittenPosition): string {
  return isEntityWrite(written) ? `version ${written.entityVersion} of ${written.entityType}/${written.entityId}` : `feed position ${written.cursor}`;
}

/** A refused feed position means something else for a projection than for a subscriber: its tables were built from another store's feed. */
function withProjectionAdvice(name: string, error: Error): Error {
  const invalid = error instanceof InvalidCursorError ? error : error.cause instanceof InvalidCursorError ? error.cause : undefined;
  if (!invalid) return error;
  const advised = new Error(
    `${error.message}. For projection '${name}' this means its tables were built from another event store's feed (or from before a restore): rebuild it from this store's (eventuate-local projections rebuild ${name}) or drop its schema`,
    { cause: error },
  );
  advised.name = error.name;
  return advised;
}
