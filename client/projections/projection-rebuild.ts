import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { MAX_PAGE_SIZE, type EntityTypeSummary, type FeedPage, type StoredEvent } from '../../src/model';
import type { ProjectionModel } from '../decorators/projection';
import type { FeedReader } from '../subscriptions/feed-end';
import { ProjectionRebuildError } from './projection-errors';
import { ProjectionRunner, copyLockKey, scopeToCopy } from './projection-runner';
import { createBookkeeping } from './projection-tables';

/** What a rebuild reads: the feed, and (for progress against a total) the stores' entity type counts. */
export type RebuildFeed = FeedReader & { listEntityTypes?(): Promise<EntityTypeSummary[]> };

export interface RebuildProgress {
  phase: 'replaying' | 'switching' | 'done';
  /** Events read from the feed so far (redeliveries and events without a handler included). */
  events: number;
  /** Events of the projection's entity types in the store when the rebuild started, when the feed can tell. */
  total?: number;
  eventsPerSecond: number;
  etaSeconds?: number;
}

export interface RebuildOptions {
  onProgress?: (progress: RebuildProgress) => void;
  signal?: AbortSignal;
}

export interface RebuildResult {
  events: number;
  seconds: number;
  /** The switched-over copy's checkpoint. */
  cursor: string;
}

export interface RebuildTarget {
  pool: Pool;
  projection: object & { createTables(db: PoolClient): Promise<unknown> };
  model: ProjectionModel;
  /** The schema readers use; the copy is built beside it and renamed to it. */
  schema: string;
  entityTypes: string[];
  feed: RebuildFeed;
  logger: Logger;
}

/** The schema a copy is built in while the one in use serves, and the one the old copy goes to during a switch-over. */
export const nextSchema = (schema: string) => `${schema}__next`;
const oldSchema = (schema: string) => `${schema}__old`;

/**
 * Blue-green rebuild: replays the whole feed into a fresh copy of the projection's tables in
 * `<schema>__next` while the copy in `<schema>` keeps serving (and its runner keeps applying new
 * events), then switches over in one transaction: it takes the copy's lock exclusively (waiting
 * for the runner's transaction in flight), applies what was written since, and renames the schemas.
 * Readers see the old tables or the new ones, never a half-built one; the runner's next transaction
 * applies to the new copy, where what it delivers again is a redelivery. One rebuild at a time per
 * projection and database.
 */
export async function rebuildProjection(target: RebuildTarget, options: RebuildOptions = {}): Promise<RebuildResult> {
  const { pool, model, schema } = target;
  const guard = await pool.connect();
  try {
    const { rows } = await guard.query(`SELECT pg_try_advisory_lock(hashtext('eventuate.projection-rebuild:' || $1)) AS locked`, [schema]);
    if (!rows[0].locked) throw new ProjectionRebuildError(model.projectionName, `another rebuild of it (schema ${schema}) is running on this database`);
    try {
      return await rebuildUnderGuard(target, options);
    } finally {
      await guard.query(`SELECT pg_advisory_unlock(hashtext('eventuate.projection-rebuild:' || $1))`, [schema]);
    }
  } finally {
    guard.release();
  }
}

async function rebuildUnderGuard(target: RebuildTarget, options: RebuildOptions): Promise<RebuildResult> {
  const { pool, model, schema, feed, logger } = target;
  const started = Date.now();
  const next = nextSchema(schema);
  await createCopy(target, next);
  const runner = new ProjectionRunner(target.projection, model, pool, next, logger);
  const total = await countEvents(feed, target.entityTypes);
  let events = 0;
  const report = (phase: RebuildProgress['phase']) => {
    const seconds = (Date.now() - started) / 1000;
    const eventsPerSecond = seconds > 0 ? events / seconds : 0;
    const etaSeconds = total !== undefined && eventsPerSecond > 0 ? Math.max(0, (total - events) / eventsPerSecond) : undefined;
    options.onProgress?.({ phase, events, total, eventsPerSecond, etaSeconds });
  };
  let cursor: string | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new ProjectionRebuildError(model.projectionName, `stopped on request; the unfinished copy stays in schema ${next} until the next rebuild`);
    const page = await readPage(feed, cursor, target.entityTypes, options.signal);
    await applyPage(runner, model, page);
    events += page.events.length;
    cursor = page.cursor;
    report('replaying');
    if (page.events.length < MAX_PAGE_SIZE) break;
  }
  report('switching');
  events += await switchOver(target, runner, cursor, options.signal);
  report('done');
  logger.info({ subscriberId: model.projectionName, events, seconds: (Date.now() - started) / 1000 }, 'projection rebuilt and switched over');
  return { events, seconds: (Date.now() - started) / 1000, cursor: cursor ?? '' };
}

/** A fresh `next` schema with the projection's tables and bookkeeping; what an earlier rebuild left goes first. */
async function createCopy({ pool, projection, model, schema, entityTypes }: RebuildTarget, next: string): Promise<void> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    await db.query(`DROP SCHEMA IF EXISTS "${next}" CASCADE; DROP SCHEMA IF EXISTS "${oldSchema(schema)}" CASCADE; CREATE SCHEMA "${next}"`);
    await db.query(scopeToCopy(next));
    await projection.createTables(db);
    // The copy records what it is built from: a start after a rebuild from the CLI checks its entity types against these.
    await createBookkeeping(db, model.projectionName, model.version, entityTypes);
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}

/**
 * Applies a page in batches; a batch that fails is applied event by event with the projection's
 * attempts, and an event that still fails stops the rebuild (a rebuild has no dead letters: the
 * copy it builds must be complete before it serves).
 */
async function applyPage(runner: ProjectionRunner, model: ProjectionModel, page: FeedPage): Promise<void> {
  const { events } = page;
  for (let from = 0; from < events.length; from += model.batchSize) {
    const batch = events.slice(from, from + model.batchSize);
    const checkpoint = from + model.batchSize >= events.length ? page.cursor : batch.at(-1)?.cursor;
    if (await runner.runBatch(batch, checkpoint)) continue;
    for (const event of batch) {
      const outcome = await runner.dispatch(event);
      if (outcome.kind === 'failed') throw failedEvent(model, event, outcome.error);
    }
    if (checkpoint !== undefined) await runner.apply([], checkpoint);
  }
}

/** In one transaction under the copy's exclusive lock: the events written since, then the renames. Returns how many it read. */
async function switchOver(target: RebuildTarget, runner: ProjectionRunner, after: string | undefined, signal?: AbortSignal): Promise<number> {
  const { pool, model, schema, feed, entityTypes } = target;
  const next = nextSchema(schema);
  const db = await pool.connect();
  let read = 0;
  try {
    await db.query(`BEGIN; SELECT pg_advisory_xact_lock(${copyLockKey(schema)}); ${scopeToCopy(next)}`);
    let cursor = after;
    for (;;) {
      const page = await readPage(feed, cursor, entityTypes, signal);
      try {
        await runner.applyWithin(db, page.events, page.cursor);
      } catch (err) {
        throw new ProjectionRebuildError(model.projectionName, `an event written during the rebuild failed while switching over: ${(err as Error).message}; rebuild again once it is fixed`, err as Error);
      }
      read += page.events.length;
      cursor = page.cursor;
      if (page.events.length < MAX_PAGE_SIZE) break;
    }
    const { rows } = await db.query(`SELECT to_regnamespace($1) IS NOT NULL AS present`, [`"${schema}"`]);
    if (rows[0].present) await db.query(`ALTER SCHEMA "${schema}" RENAME TO "${oldSchema(schema)}"`);
    await db.query(`ALTER SCHEMA "${next}" RENAME TO "${schema}"`);
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
  // Readers still on the old tables finish first: DROP waits for their locks.
  await pool.query(`DROP SCHEMA IF EXISTS "${oldSchema(schema)}" CASCADE`);
  return read;
}

function readPage(feed: RebuildFeed, after: string | undefined, entityTypes: string[], signal?: AbortSignal): Promise<FeedPage> {
  return feed.readFeed({ after, limit: MAX_PAGE_SIZE, entityTypes, signal });
}

async function countEvents(feed: RebuildFeed, entityTypes: string[]): Promise<number | undefined> {
  if (typeof feed.listEntityTypes !== 'function') return undefined;
  const types = new Set(entityTypes);
  return (await feed.listEntityTypes()).filter((t) => types.has(t.entityType)).reduce((sum, t) => sum + t.eventCount, 0);
}

function failedEvent(model: ProjectionModel, event: StoredEvent, error: Error): ProjectionRebuildError {
  return new ProjectionRebuildError(
    model.projectionName,
    `event ${event.eventId} (${event.eventType}, version ${event.entityVersion} of ${event.entityType}/${event.entityId}) failed: ${error.message}. Fix the handler and rebuild again`,
    error,
  );
}
