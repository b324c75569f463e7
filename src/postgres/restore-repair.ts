import type { Pool, PoolClient } from 'pg';
import { encodeCursor, FEED_START, newStoreId, placeIn } from '../cursor';
import { migrate, migrationLockKey } from './migrations';
import { buildQueries } from './queries';
import { quoteAnyIdent, quoteIdent } from './sql';
import type { StoreIdentityRow } from './store-identity';

/**
 * The transaction id every event gets: the lowest a transaction can have (FirstNormalTransactionId),
 * so below whatever this cluster, or any cluster the database moves to, has reached.
 */
export const RENUMBERED_TRANSACTION_ID = 3n;

/** A cursor stored in a table of the schema, rewritten to the same place in the renumbered feed. */
export interface CarriedOverCursor {
  table: string;
  /** The row, without its cursor. */
  row: Record<string, unknown>;
  before: string;
  after: string;
}

/** A stored cursor the repair could not place (it was never this store's), left as it was. */
export interface LeftCursor {
  table: string;
  row: Record<string, unknown>;
  cursor: string;
  reason: string;
}

export type RepairOutcome =
  | { repaired: false; newestTransactionId: bigint | null; presentTransactionId: bigint }
  | {
      repaired: true;
      newestTransactionId: bigint;
      presentTransactionId: bigint;
      /** Events renumbered. */
      events: number;
      storeId: { before: string; after: string };
      carriedOver: CarriedOverCursor[];
      left: LeftCursor[];
    };

export interface RepairOptions {
  /** How long to wait for other sessions to let go of the events table; default 10000 ms. */
  lockTimeoutMs?: number;
}

/**
 * Repairs a store whose events hold transaction ids above its cluster's present (a restore into
 * another cluster; see DatabaseRestoredError), in one transaction, or does nothing when none does.
 *
 * Every event gets transaction id RENUMBERED_TRANSACTION_ID and, as position, its rank in the
 * present (transaction id, position) order: the feed keeps its order, and lies entirely below
 * every transaction to come. Places in the old numbering mean nothing in the new one, so the store
 * gets a new identity, which makes every cursor issued before the repair invalid_cursor rather
 * than a silent skip; cursors stored in the schema's own tables (every text column named `cursor`:
 * the relay's, the PostgreSQL subscriber cursor store's) are rewritten to the same place first.
 */
export async function repairAfterRestore(pool: Pool, schema: string, options: RepairOptions = {}): Promise<RepairOutcome> {
  const s = quoteIdent(schema);
  // A dump of an earlier version has no identity yet: the migrations give it one.
  await migrate(pool, schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.trunc(options.lockTimeoutMs ?? 10_000))}`);
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [migrationLockKey(schema)]);
    await lockOrExplain(client, `LOCK TABLE ${s}.events IN ACCESS EXCLUSIVE MODE`, `${schema}.events`);
    const cursorTables = await tablesWithCursors(client, schema);
    for (const table of cursorTables) await lockOrExplain(client, `LOCK TABLE ${s}.${quoteAnyIdent(table)} IN EXCLUSIVE MODE`, `${schema}.${table}`);

    const [identity] = (await client.query<StoreIdentityRow>(buildQueries(s).storeIdentity)).rows;
    const newest = identity.newest_transaction_id === null ? null : BigInt(identity.newest_transaction_id);
    const presentTransactionId = BigInt(identity.present_xmax) - 1n;
    if (newest === null || newest <= presentTransactionId) {
      await client.query('ROLLBACK');
      return { repaired: false, newestTransactionId: newest, presentTransactionId };
    }

    const storeId = { before: identity.store_id, after: newStoreId() };
    // Placed before the events move: a cursor's new position is the number of events up to it in the old order.
    const carriedOver: CarriedOverCursor[] = [];
    const left: LeftCursor[] = [];
    const rewrites: Array<{ table: string; ctid: string; cursor: string }> = [];
    for (const table of cursorTables) {
      const { rows } = await client.query<{ ctid: string; row: Record<string, unknown>; cursor: string }>(
        `SELECT ctid::text AS ctid, to_jsonb(t) - 'cursor' AS row, cursor FROM ${s}.${quoteAnyIdent(table)} t WHERE cursor IS NOT NULL`,
      );
      for (const { ctid, row, cursor } of rows) {
        const placed = placeIn(cursor, { storeId: identity.store_id, acceptsUnidentifiedCursors: identity.accepts_unidentified_cursors });
        if ('refused' in placed) {
          left.push({ table, row, cursor, reason: placed.refused });
          continue;
        }
        const at = placed.position;
        const { rows: counted } = await client.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${s}.events WHERE (transaction_id, position) <= ($1::xid8, $2::bigint)`,
          [at.transactionId.toString(), at.position.toString()],
        );
        const rank = BigInt(counted[0].n);
        const after = encodeCursor(storeId.after, rank === 0n ? FEED_START : { transactionId: RENUMBERED_TRANSACTION_ID, position: rank });
        carriedOver.push({ table, row, before: cursor, after });
        rewrites.push({ table, ctid, cursor: after });
      }
    }

    // The position column is an identity column that only takes generated values; for this one
    // update it takes given ones. Its sequence stays where it is, above every rank.
    await client.query(`ALTER TABLE ${s}.events ALTER COLUMN position SET GENERATED BY DEFAULT`);
    const renumbered = await client.query(
      `UPDATE ${s}.events e SET transaction_id = $1::xid8, position = ranked.rank
       FROM (SELECT event_id, row_number() OVER (ORDER BY transaction_id, position) AS rank FROM ${s}.events) ranked
       WHERE e.event_id = ranked.event_id`,
      [RENUMBERED_TRANSACTION_ID.toString()],
    );
    await client.query(`ALTER TABLE ${s}.events ALTER COLUMN position SET GENERATED ALWAYS`);
    await client.query(`UPDATE ${s}.store_identity SET store_id = $1, accepts_unidentified_cursors = false`, [storeId.after]);
    for (const { table, ctid, cursor } of rewrites) {
      await client.query(`UPDATE ${s}.${quoteAnyIdent(table)} SET cursor = $1 WHERE ctid = $2::tid`, [cursor, ctid]);
    }
    await client.query('COMMIT');
    return { repaired: true, newestTransactionId: newest, presentTransactionId, events: renumbered.rowCount ?? 0, storeId, carriedOver, left };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The tables of the schema with a text column named `cursor`. */
async function tablesWithCursors(client: PoolClient, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attname = 'cursor' AND a.atttypid = 'text'::regtype AND NOT a.attisdropped
     ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.table);
}

async function lockOrExplain(client: PoolClient, statement: string, table: string): Promise<void> {
  try {
    await client.query(statement);
  } catch (err) {
    // 55P03 lock_not_available: lock_timeout passed.
    if ((err as { code?: string }).code !== '55P03') throw err;
    throw new Error(
      `${table} is in use by another session (a server, a relay, a subscriber or an open transaction): stop every server and relay of this store, then run the repair again`,
      { cause: err },
    );
  }
}
