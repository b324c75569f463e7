import type { PoolClient } from 'pg';
import { decodeCursor } from '../../src/cursor';
import type { Queryable } from '../../src/postgres/named-cursor-table';
import { entityKeyOf } from '../subscriptions/event-settler';

/**
 * The bookkeeping a projection keeps beside its own tables, in the same schema, so a rebuilt copy
 * carries its own and a switch-over moves all of it at once:
 * - `eventuate_projection_state`: one row: the projection's version, its feed checkpoint (the
 *   cursor and, to compare positions in SQL, the cursor's transaction id and position), the newest
 *   applied event's time, and why it halted, if it did.
 * - `eventuate_projection_entities`: per entity, the version of the last event applied. An event at
 *   or below it is a redelivery (whatever the source: a relay restart gives redelivered events new
 *   Kafka offsets, but never new versions) and changes nothing.
 */
export const STATE_TABLE = 'eventuate_projection_state';
export const ENTITIES_TABLE = 'eventuate_projection_entities';

export interface ProjectionState {
  projection: string;
  version: number;
  /** The entity types its copy was built from (recorded at its start, or by the rebuild that made it): what its lag counts. */
  entityTypes: string[];
  cursor?: string;
  lastEventAt?: string;
  updatedAt: string;
  haltedError?: string;
}

/** Creates the bookkeeping tables in the current schema (search_path) and the state row, recording the entity types the copy is built from. */
export async function createBookkeeping(db: Queryable, projection: string, version: number, entityTypes: string[]): Promise<void> {
  await db.query(`
    CREATE TABLE ${STATE_TABLE} (
      projection text PRIMARY KEY,
      version int NOT NULL,
      cursor text,
      cursor_transaction_id numeric(20),
      cursor_position numeric(20),
      last_event_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      halted_error text,
      entity_types text[] NOT NULL DEFAULT '{}'
    );
    CREATE TABLE ${ENTITIES_TABLE} (
      entity_type text NOT NULL,
      entity_id text NOT NULL,
      version int NOT NULL,
      PRIMARY KEY (entity_type, entity_id)
    )`);
  await db.query(`INSERT INTO ${STATE_TABLE} (projection, version, entity_types) VALUES ($1, $2, $3)`, [projection, version, entityTypes]);
}

/** The state row of the copy in `schema`, or undefined when the schema or its bookkeeping does not exist. */
export async function readState(db: Queryable, schema: string): Promise<ProjectionState | undefined> {
  const { rows: exists } = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`"${schema}".${STATE_TABLE}`]);
  if (!exists[0].present) return undefined;
  const { rows } = await db.query(
    `SELECT projection, version, cursor, last_event_at, updated_at, halted_error, entity_types FROM "${schema}".${STATE_TABLE}`,
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    projection: row.projection,
    version: row.version,
    entityTypes: row.entity_types,
    cursor: row.cursor ?? undefined,
    lastEventAt: row.last_event_at?.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    haltedError: row.halted_error ?? undefined,
  };
}

/**
 * Moves the checkpoint to `cursor` unless it already lies there or beyond: two writers (the batch
 * transaction, the source saving a finished prefix, a live runner after a switch-over to a copy
 * that is ahead) can only move it forward. In `schema`, or in the current one (search_path).
 */
export async function advanceCheckpoint(db: Queryable, cursor: string, lastEventAt?: string, schema?: string): Promise<void> {
  const { transactionId, position } = decodeCursor(cursor);
  await db.query(
    `UPDATE ${schema === undefined ? STATE_TABLE : `"${schema}".${STATE_TABLE}`}
        SET cursor = $1, cursor_transaction_id = $2, cursor_position = $3, updated_at = now(),
            last_event_at = GREATEST(last_event_at, $4::timestamptz)
      WHERE cursor IS NULL OR (cursor_transaction_id, cursor_position) < ($2::numeric, $3::numeric)`,
    [cursor, transactionId.toString(), position.toString(), lastEventAt ?? null],
  );
}

/** The applied version of each entity in `keys` (locked for this transaction), creating rows at 0 for new ones. */
export async function lockEntityVersions(db: PoolClient, keys: Array<{ entityType: string; entityId: string }>): Promise<Map<string, number>> {
  // In one order (ORDER BY), so two transactions over the same entities do not deadlock. Rows for
  // new entities are inserted first: a second writer of the same new entity (another process
  // running the projection) then waits for this one to commit and sees its version.
  const types = keys.map((k) => k.entityType);
  const ids = keys.map((k) => k.entityId);
  await db.query(
    `INSERT INTO ${ENTITIES_TABLE} (entity_type, entity_id, version)
     SELECT t, i, 0 FROM unnest($1::text[], $2::text[]) AS k(t, i) ORDER BY t, i
     ON CONFLICT DO NOTHING`,
    [types, ids],
  );
  const { rows } = await db.query<{ entity_type: string; entity_id: string; version: number }>(
    `SELECT entity_type, entity_id, version FROM ${ENTITIES_TABLE}
      WHERE (entity_type, entity_id) IN (SELECT t, i FROM unnest($1::text[], $2::text[]) AS k(t, i))
      ORDER BY entity_type, entity_id FOR UPDATE`,
    [types, ids],
  );
  return new Map(rows.map((r) => [entityKeyOf(r.entity_type, r.entity_id), r.version]));
}

/** Records the versions applied in this transaction. */
export async function saveEntityVersions(db: Queryable, versions: Map<string, { entityType: string; entityId: string; version: number }>): Promise<void> {
  if (versions.size === 0) return;
  const rows = [...versions.values()];
  await db.query(
    `UPDATE ${ENTITIES_TABLE} AS e SET version = v.version
       FROM unnest($1::text[], $2::text[], $3::int[]) AS v(entity_type, entity_id, version)
      WHERE e.entity_type = v.entity_type AND e.entity_id = v.entity_id`,
    [rows.map((r) => r.entityType), rows.map((r) => r.entityId), rows.map((r) => r.version)],
  );
}

/** The applied version of one entity in the copy in `schema` (0: none of its events yet). */
export async function appliedVersion(db: Queryable, schema: string, entityType: string, entityId: string): Promise<number> {
  const { rows } = await db.query<{ version: number }>(`SELECT version FROM "${schema}".${ENTITIES_TABLE} WHERE entity_type = $1 AND entity_id = $2`, [
    entityType,
    entityId,
  ]);
  return rows[0]?.version ?? 0;
}

