import type { Pool, PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';
import type { StoredEvent } from '../../src/model';
import { isTimeout, isUnavailable } from '../../src/postgres/sql';
import type { ProjectionModel } from '../decorators/projection';
import { deserializeStoredEvent } from '../serialization';
import { entityKeyOf, type BatchEventRunner } from '../subscriptions/event-settler';
import { attemptHandling, type DispatchOutcome } from '../subscriptions/subscriber-dispatcher';
import { ProjectionContext } from './projection-context';
import { ProjectionGapError, ProjectionVersionError } from './projection-errors';
import { STATE_TABLE, advanceCheckpoint, lockEntityVersions, saveEntityVersions } from './projection-tables';

type Handler = (context: ProjectionContext) => unknown;

/**
 * Applies events to one copy of a projection's tables (the schema it is given), each batch in one
 * transaction with the entity versions it applied and the feed checkpoint; an event at or below its
 * entity's applied version is a redelivery and is passed over. The transaction holds the copy's
 * advisory lock shared, so a switch-over to a rebuilt copy (which takes it exclusively) happens
 * between transactions, never during one.
 */
export class ProjectionRunner implements BatchEventRunner {
  readonly batchSize: number;

  constructor(
    private readonly projection: object,
    private readonly model: ProjectionModel,
    private readonly pool: Pool,
    readonly schema: string,
    private readonly logger: Logger,
    /** Called after each commit with how many events it applied and how many it passed over as redeliveries. */
    private readonly onCommitted: (counts: { applied: number; redeliveries: number }) => void = () => undefined,
  ) {
    this.batchSize = model.batchSize;
  }

  async runBatch(events: StoredEvent[], checkpoint: string | undefined): Promise<boolean> {
    try {
      await this.apply(events, checkpoint);
      return true;
    } catch (err) {
      if (err instanceof ProjectionVersionError) throw err;
      this.logger.info({ subscriberId: this.model.projectionName, events: events.length, err }, 'batch rolled back; applying its events one by one');
      return false;
    }
  }

  async dispatch(event: StoredEvent, signal?: AbortSignal): Promise<DispatchOutcome> {
    let superseded: ProjectionVersionError | undefined;
    const outcome = await attemptHandling(this.model.subscriber, this.logger, event, signal, async () => {
      try {
        await this.apply([event], undefined);
      } catch (err) {
        if (!(err instanceof ProjectionVersionError)) throw err;
        superseded = err;
      }
    });
    if (superseded) throw superseded;
    return outcome;
  }

  /** Applies the events in order in one transaction; throws (having applied nothing) when any handler does. */
  async apply(events: StoredEvent[], checkpoint: string | undefined): Promise<void> {
    const db = await this.pool.connect();
    let broken: Error | undefined;
    // A connection that dies while checked out emits 'error' besides failing its query.
    const onError = (err: Error) => (broken = err);
    db.on('error', onError);
    try {
      // One round trip: begin, scope, lock, and the version the copy was built by (the last result).
      const opened = (await db.query(
        `BEGIN; ${scopeToCopy(this.schema)}; SELECT pg_advisory_xact_lock_shared(${copyLockKey(this.schema)}); SELECT version FROM ${STATE_TABLE}`,
      )) as unknown as Array<QueryResult<{ version: number }>>;
      try {
        checkVersion(opened.at(-1)?.rows[0]?.version, this.model, this.schema);
        const applied = await this.applyWithin(db, events, checkpoint);
        await db.query('COMMIT');
        this.onCommitted({ applied: applied.length, redeliveries: events.length - applied.length });
      } catch (err) {
        await db.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw err;
      }
    } catch (err) {
      // A connection that failed or timed out goes back to the pool destroyed.
      broken ??= isUnavailable(err) || isTimeout(err) ? (err as Error) : undefined;
      throw err;
    } finally {
      db.off('error', onError);
      db.release(broken);
    }
  }

  /**
   * Applies the events inside a transaction the caller holds, scoped to this copy's schema (a
   * switch-over catching up); returns those applied, redeliveries left out.
   */
  async applyWithin(db: PoolClient, events: StoredEvent[], checkpoint: string | undefined): Promise<StoredEvent[]> {
    const keys = new Map(events.map((e) => [entityKeyOf(e.entityType, e.entityId), { entityType: e.entityType, entityId: e.entityId }]));
    const applied = await lockEntityVersions(db, [...keys.values()]);
    const changed = new Map<string, { entityType: string; entityId: string; version: number }>();
    const committed: StoredEvent[] = [];
    for (const stored of events) {
      const key = entityKeyOf(stored.entityType, stored.entityId);
      const known = changed.get(key)?.version ?? applied.get(key) ?? 0;
      if (stored.entityVersion <= known) continue;
      // A projection reading from the end meets each entity first at whatever version comes next.
      const firstSeen = known === 0 && this.model.subscriber.readFrom === 'end';
      if (stored.entityVersion !== known + 1 && !firstSeen) throw new ProjectionGapError(this.model.projectionName, key, stored.entityVersion, known);
      const methodName = this.model.subscriber.handlers.get(stored.eventType);
      if (methodName !== undefined) {
        const context = new ProjectionContext(deserializeStoredEvent(stored), stored, db);
        await (this.projection as Record<string, Handler>)[methodName](context);
      }
      changed.set(key, { entityType: stored.entityType, entityId: stored.entityId, version: stored.entityVersion });
      committed.push(stored);
    }
    await saveEntityVersions(db, changed);
    if (checkpoint !== undefined) await advanceCheckpoint(db, checkpoint, events.at(-1)?.createdAt);
    return committed;
  }
}

/**
 * The copy was built by another version of the projection (a newer deployment rebuilt it and
 * switched over): this runner's code must not write to it. Thrown out of the runner, it halts the
 * subscriber instead of dead-lettering every event.
 */
function checkVersion(built: number | undefined, model: ProjectionModel, schema: string): void {
  if (built !== model.version) throw new ProjectionVersionError(model.projectionName, schema, built ?? 0, model.version);
}

/** SQL that makes unqualified names resolve in the copy's schema for the rest of the transaction. */
export function scopeToCopy(schema: string): string {
  return `SET LOCAL search_path TO "${schema}", public`;
}

/** The advisory lock key (SQL) of a copy: held shared by every transaction that applies events to it, exclusively by a switch-over. */
export function copyLockKey(schema: string): string {
  return `hashtext('eventuate.projection:${schema}')`;
}
