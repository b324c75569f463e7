import type { Queryable } from '../../src/postgres/named-cursor-table';
import { DEAD_LETTER_COUNTS } from '../subscriptions/postgres-dead-letters';
import { nextSchema } from './projection-rebuild';
import { STATE_TABLE, readState } from './projection-tables';

/** A subscriber's or projection's position as its database keeps it (what `eventuate-local subscribers` shows). */
export interface StoredCheckpoint {
  name: string;
  kind: 'projection' | 'subscriber';
  /** The projection's schema. */
  schema?: string;
  version?: number;
  /** The entity types a projection reads (unknown for a subscriber: its cursor table does not keep them). */
  entityTypes?: string[];
  cursor?: string;
  /** When it last moved (a projection: its last commit with a checkpoint; a subscriber: its last saved cursor). */
  updatedAt?: string;
  lastEventAt?: string;
  /** Why it stopped by itself, as the projection recorded it. */
  haltedError?: string;
  /** A rebuild's copy exists beside it: where the rebuild has got to. */
  rebuild?: { cursor?: string; lastEventAt?: string; updatedAt: string };
  deadLetters?: { failed: number; parked: number; parkedEntities: number };
}

/**
 * Every projection in the database (a schema with the projection bookkeeping) and every feed
 * subscriber whose cursor postgresCursorStore keeps in `schema`, with their dead-letter counts
 * from postgresDeadLetters' table in `schema`, when those tables exist.
 */
export async function readStoredCheckpoints(db: Queryable, schema = 'eventuate'): Promise<StoredCheckpoint[]> {
  const found: StoredCheckpoint[] = [];
  const { rows: schemas } = await db.query<{ table_schema: string }>(
    `SELECT table_schema FROM information_schema.tables WHERE table_name = $1 ORDER BY table_schema`,
    [STATE_TABLE],
  );
  const names = new Set(schemas.map((r) => r.table_schema));
  for (const projectionSchema of names) {
    if (projectionSchema.endsWith('__next') || projectionSchema.endsWith('__old')) continue;
    const state = await readState(db, projectionSchema);
    if (!state) continue;
    const copy = names.has(nextSchema(projectionSchema)) ? await readState(db, nextSchema(projectionSchema)) : undefined;
    found.push({
      name: state.projection,
      kind: 'projection',
      schema: projectionSchema,
      version: state.version,
      entityTypes: state.entityTypes,
      cursor: state.cursor,
      updatedAt: state.updatedAt,
      lastEventAt: state.lastEventAt,
      haltedError: state.haltedError,
      rebuild: copy && { cursor: copy.cursor, lastEventAt: copy.lastEventAt, updatedAt: copy.updatedAt },
    });
  }
  if (await tableExists(db, schema, 'subscriber_cursors')) {
    const { rows } = await db.query<{ subscriber_id: string; cursor: string; updated_at: Date }>(
      `SELECT subscriber_id, cursor, updated_at FROM "${schema}".subscriber_cursors ORDER BY subscriber_id`,
    );
    for (const r of rows) found.push({ name: r.subscriber_id, kind: 'subscriber', cursor: r.cursor, updatedAt: r.updated_at.toISOString() });
  }
  if (await tableExists(db, schema, 'subscriber_dead_letters')) {
    const { rows } = await db.query<{ subscriber_id: string; failed: number; parked: number; parked_entities: number }>(
      `SELECT subscriber_id, ${DEAD_LETTER_COUNTS} FROM "${schema}".subscriber_dead_letters GROUP BY subscriber_id`,
    );
    for (const r of rows) {
      const counts = { failed: r.failed, parked: r.parked, parkedEntities: r.parked_entities };
      const known = found.filter((c) => c.name === r.subscriber_id);
      // A Kafka subscriber keeps no cursor here; its dead letters still show.
      if (known.length === 0) found.push({ name: r.subscriber_id, kind: 'subscriber', deadLetters: counts });
      for (const c of known) c.deadLetters = counts;
    }
  }
  return found;
}

async function tableExists(db: Queryable, schema: string, table: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`"${schema}".${table}`]);
  return rows[0].present === true;
}
