import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import pino, { type Logger } from 'pino';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { DuplicateTriggeringEventError, OptimisticLockingError } from '../../src/errors';
import type { EventStore } from '../../src/event-store';
import type { JsonObject } from '../../src/model';
import { buildEventMetadata } from '../event-metadata';
import { postgresProjection, type PostgresProjection } from '../projections/postgres-projection';
import { onNewEntityTypesOption, type OnNewEntityTypes } from '../projections/projection-entity-types';
import { ProjectionEntityTypesError } from '../projections/projection-errors';
import { serializeEvent } from '../serialization';
import type { SubscriberModel } from '../decorators/event-subscriber';
import type { SubscriberRuntime } from '../subscriptions/subscriber-runtime';
import type { SagaDefinition } from '../sagas/saga-definition';
import { DeadlineCancelled, DeadlineFired, DeadlineScheduled, deadlineEventId } from './deadline-events';
import { DEADLINE_TABLE, deadlineIndexClass, type DeadlineStatus } from './deadline-index';

/** The deadline index cannot serve this scheduler as it stands; the message names the fix. */
export class DeadlineIndexError extends Error {
  override name = 'DeadlineIndexError';
}

export interface DeadlineSchedulerOptions {
  /** The store the deadlines' owners live in: deadlines are written there and fired there. */
  store: EventStore;
  /** The database of the due-time index (the event store's or any other). Or give `pool`. */
  connectionString?: string;
  pool?: Pool;
  /** The entity types whose deadlines it fires: strings, or saga definitions (their instances' type). */
  entityTypes: Array<string | SagaDefinition>;
  /** How often it looks for due deadlines. Default 1000 ms. */
  pollMs?: number;
  /** How long a scheduler that took a due deadline keeps the others off it (a crash mid-fire delays the fire by this). Default 30 s. */
  leaseMs?: number;
  /** The index's schema and projection name. Default 'eventuate_deadlines'. */
  schema?: string;
  /**
   * What to do when the index was built for fewer entity types than this scheduler reads (a type
   * added to entityTypes later): the deadlines of the added types scheduled before it were never
   * indexed and would never fire. 'refuse' (default): open fails with an error saying so; 'rebuild':
   * the index is rebuilt from the store's feed before the scheduler starts (blue-green; firing again a
   * deadline already fired writes nothing: its token is taken).
   */
  onNewEntityTypes?: OnNewEntityTypes;
  logger?: Logger;
}

export interface ScheduleDeadline {
  /** The owner: an existing entity, in whose stream the deadline is written and fired. */
  entityType: string;
  entityId: string;
  /** What it is for; DeadlineFired carries it back. */
  name: string;
  /** When: a time, or milliseconds from now. */
  dueAt?: Date;
  inMs?: number;
  payload?: JsonObject;
  /** Default: a new UUID. */
  deadlineId?: string;
}

export interface DeadlineRow {
  deadlineId: string;
  entityType: string;
  entityId: string;
  name: string;
  dueAt: Date;
  payload: JsonObject;
  /** As the owner's stream says (once the index has read it). */
  status: DeadlineStatus;
  /** A scheduler fired it, or found it fired or cancelled. */
  settled: boolean;
  /** Fire attempts, and the last one's error. */
  attempts: number;
  lastError?: string;
}

const WRITE_ATTEMPTS = 10;
const FIRE_BATCH = 100;

/**
 * Durable deadlines: "this event at time T" for any entity. `schedule` writes DeadlineScheduled in
 * the owner's stream (in the store, so it survives anything); the scheduler, added to a
 * SubscriptionManager like a projection, indexes deadlines by due time in PostgreSQL and every
 * `pollMs` fires those due by appending DeadlineFired to the owner under the deadline's id as
 * triggering token. So a deadline fires once whatever happens: several schedulers take due
 * deadlines with FOR UPDATE SKIP LOCKED and a lease, a scheduler that crashed between firing and
 * recording it finds the token taken, and `cancel` takes the same token (fired or cancelled, never
 * both). One that fell due while no scheduler ran fires when one starts.
 */
export function deadlineScheduler(options: DeadlineSchedulerOptions): DeadlineScheduler {
  return new DeadlineScheduler(options);
}

export class DeadlineScheduler implements SubscriberRuntime {
  readonly entityTypes: string[];
  readonly index: PostgresProjection;
  readonly schema: string;
  private readonly store: EventStore;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private logger: Logger;
  private polling?: { stop: AbortController; done: Promise<void> };

  constructor(options: DeadlineSchedulerOptions) {
    if (!options?.store) throw new TypeError('deadlineScheduler needs { store }: the event store its deadlines live in');
    this.store = options.store;
    this.entityTypes = [...new Set((options.entityTypes ?? []).map((t) => (typeof t === 'string' ? t : t.name)))].sort();
    if (this.entityTypes.length === 0) throw new TypeError('deadlineScheduler needs { entityTypes }: the entity types (or sagas) whose deadlines it fires');
    if (!options.pool && !options.connectionString) throw new TypeError('deadlineScheduler needs the database of its index: { connectionString } or { pool }');
    this.pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: 4 });
    this.ownsPool = !options.pool;
    if (this.ownsPool) this.pool.on('error', () => undefined);
    this.schema = options.schema ?? 'eventuate_deadlines';
    this.pollMs = positive(options.pollMs ?? 1000, 'pollMs');
    this.leaseMs = positive(options.leaseMs ?? 30_000, 'leaseMs');
    const onNewEntityTypes = onNewEntityTypesOption(options.onNewEntityTypes, 'deadlineScheduler');
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
    const Index = deadlineIndexClass(this.schema, this.entityTypes);
    this.index = postgresProjection(new Index(), { pool: this.pool, schema: this.schema, feed: this.store, onNewEntityTypes, logger: this.logger });
  }

  get subscriberModel(): SubscriberModel {
    return this.index.subscriberModel;
  }

  /** Writes DeadlineScheduled in the owner's stream; the scheduler fires it once it is due. */
  async schedule(request: ScheduleDeadline): Promise<{ deadlineId: string; dueAt: Date }> {
    this.requireOwnerType(request.entityType);
    if ((request.dueAt === undefined) === (request.inMs === undefined)) throw new TypeError('schedule needs one of dueAt (a Date) or inMs');
    const dueAt = request.dueAt ?? new Date(Date.now() + request.inMs!);
    if (!(dueAt instanceof Date) || Number.isNaN(dueAt.getTime())) throw new TypeError(`schedule: dueAt must be a valid Date, not ${String(request.dueAt)}`);
    const deadlineId = request.deadlineId ?? randomUUID();
    const event = new DeadlineScheduled(deadlineId, request.name, dueAt.toISOString(), request.payload ?? {});
    await appendRecord(this.store, request.entityType, request.entityId, event, deadlineEventId(deadlineId, 'scheduled'), undefined);
    return { deadlineId, dueAt };
  }

  /**
   * Cancels a deadline by writing DeadlineCancelled under its id as token: true when cancelled,
   * false when it had already fired (or been cancelled). A fire and a cancel never both happen.
   */
  async cancel(request: { entityType: string; entityId: string; deadlineId: string }): Promise<boolean> {
    this.requireOwnerType(request.entityType);
    const event = new DeadlineCancelled(request.deadlineId);
    return appendRecord(this.store, request.entityType, request.entityId, event, deadlineEventId(request.deadlineId, 'cancelled'), request.deadlineId);
  }

  /** The deadline as the index has it, or undefined when the index has not read it (yet). */
  async find(deadlineId: string): Promise<DeadlineRow | undefined> {
    const { rows } = await this.pool.query(`SELECT * FROM "${this.schema}".${DEADLINE_TABLE} WHERE deadline_id = $1`, [deadlineId]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      deadlineId: row.deadline_id,
      entityType: row.entity_type,
      entityId: row.entity_id,
      name: row.name,
      dueAt: row.due_at,
      payload: row.payload,
      status: row.status,
      settled: row.settled_at !== null,
      attempts: row.attempts,
      lastError: row.last_error ?? undefined,
    };
  }

  async open(logger: Logger) {
    this.logger = logger;
    const opened = await this.index.open(logger).catch((error: unknown) => {
      throw error instanceof ProjectionEntityTypesError ? this.notIndexed(error) : error;
    });
    const stop = new AbortController();
    this.polling = { stop, done: this.poll(stop.signal) };
    return opened;
  }

  async closed(error?: Error): Promise<void> {
    const polling = this.polling;
    this.polling = undefined;
    polling?.stop.abort();
    await polling?.done;
    await this.index.closed(error);
  }

  /** Ends the connection pool it made (not one it was given). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /**
   * Fires the deadlines due now that no other scheduler holds; the poller calls it every pollMs.
   * Answers how many it fired (those it found fired or cancelled already are not counted).
   */
  async fireDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const { rows } = await this.pool.query(
        `UPDATE "${this.schema}".${DEADLINE_TABLE} SET lease_until = now() + make_interval(secs => $1), attempts = attempts + 1
         WHERE deadline_id IN (
           SELECT deadline_id FROM "${this.schema}".${DEADLINE_TABLE}
           WHERE status = 'scheduled' AND settled_at IS NULL AND due_at <= now() AND (lease_until IS NULL OR lease_until <= now())
           ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING deadline_id, entity_type, entity_id, name, due_at, payload`,
        [this.leaseMs / 1000, FIRE_BATCH],
      );
      for (const row of rows) {
        try {
          const event = new DeadlineFired(row.deadline_id, row.name, (row.due_at as Date).toISOString(), row.payload);
          if (await appendRecord(this.store, row.entity_type, row.entity_id, event, deadlineEventId(row.deadline_id, 'fired'), row.deadline_id)) fired++;
          await this.pool.query(`UPDATE "${this.schema}".${DEADLINE_TABLE} SET settled_at = now(), lease_until = NULL, last_error = NULL WHERE deadline_id = $1`, [row.deadline_id]);
        } catch (error) {
          // Left leased: this or another scheduler tries again once the lease ends.
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          this.logger.warn({ deadlineId: row.deadline_id, entityType: row.entity_type, entityId: row.entity_id, err: error }, 'firing a deadline failed; it is tried again after its lease');
          await this.pool.query(`UPDATE "${this.schema}".${DEADLINE_TABLE} SET last_error = $2 WHERE deadline_id = $1`, [row.deadline_id, text]).catch(() => undefined);
        }
      }
      if (rows.length < FIRE_BATCH) return fired;
    }
  }

  private async poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.fireDue();
      } catch (error) {
        this.logger.warn({ err: error, subscriberId: this.index.name }, 'looking for due deadlines failed; trying again');
      }
      await sleep(this.pollMs, signal).catch(() => undefined);
    }
  }

  /** The index's refusal of added entity types, said of deadlines. */
  private notIndexed(error: ProjectionEntityTypesError): DeadlineIndexError {
    return new DeadlineIndexError(
      `deadline index '${this.schema}' was built for entity types other than ${error.added.join(', ')}, which this scheduler now reads: their deadlines scheduled until now are not in it and would never fire. ` +
        "Rebuild it from the store: deadlineScheduler({ ..., onNewEntityTypes: 'rebuild' }) (once), or give this scheduler another schema",
      { cause: error },
    );
  }

  private requireOwnerType(entityType: string): void {
    if (!this.entityTypes.includes(entityType)) {
      throw new TypeError(`deadlines of entity type '${entityType}' would never fire: this scheduler reads ${this.entityTypes.join(', ')}; add it to deadlineScheduler({ entityTypes })`);
    }
  }
}

/**
 * Appends one deadline record to its owner at its present version (retrying conflicts with the
 * owner's other writers); false when `token` was already taken on the owner (fired or cancelled).
 */
async function appendRecord(store: EventStore, entityType: string, entityId: string, record: object, eventId: string, token: string | undefined): Promise<boolean> {
  const { eventType, eventData, schemaVersion } = serializeEvent(record);
  const metadata = buildEventMetadata(schemaVersion, {});
  for (let attempt = 1; ; attempt++) {
    const { entityVersion } = await store.load(entityType, entityId);
    try {
      await store.append({ entityType, entityId, expectedVersion: entityVersion, events: [{ eventId, eventType, eventData, metadata }], triggeringEventToken: token });
      return true;
    } catch (error) {
      if (error instanceof DuplicateTriggeringEventError) return false;
      if (!(error instanceof OptimisticLockingError) || attempt >= WRITE_ATTEMPTS) throw error;
      await sleep(jitteredBackoffMs(attempt, { baseMs: 10, maxMs: 1000 }));
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`deadlineScheduler: ${name} must be a positive number of milliseconds, not ${value}`);
  return value;
}
