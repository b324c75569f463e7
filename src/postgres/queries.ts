import { PACKED_EVENTS } from './packed-events';

/**
 * Every time a write records is the time of the write, not of its transaction's start (now()): a
 * transaction the caller holds may be long, and one entity's versions and times must never
 * disagree. In milliseconds: the precision every reader gets back, so that `asOf` = an event's own
 * createdAt selects that event.
 */
export const WRITTEN_AT = `date_trunc('milliseconds', clock_timestamp())`;

/**
 * A time as the reads select it: in UTC without a zone, which PostgreSQL writes the same whatever
 * the session's time zone and read-time.ts turns into Date.toISOString's text (`Z`, milliseconds)
 * without a Date. (to_char made that text here, but cost PostgreSQL 1.2 ms per 1,000 rows.)
 */
const utc = (column: string) => `${column} AT TIME ZONE 'UTC'`;

/** The store's SQL, written once per schema (already quoted) at construction. */
export function buildQueries(s: string) {
  // Read with row-reading.ts's types: the JSON parsed into objects or passed on as text. A read of
  // one entity's events leaves out its type and id, which the reader knows (a tenth of a 1,000-event load).
  const entityEventColumns = `event_id::text AS event_id, entity_version, event_type, event_data, metadata,
    triggering_event, ${utc('created_at')} AS created_at`;
  const eventColumns = `entity_type, entity_id, ${entityEventColumns}`;
  const newEvents = `jsonb_array_elements($5::jsonb) WITH ORDINALITY AS batch(e, ord)`;
  const writtenAt = WRITTEN_AT;
  const insertEvents = (from: string, firstVersionMinusOne: string) => `
    INSERT INTO ${s}.events (event_id, entity_type, entity_id, entity_version, event_type, event_data, metadata, triggering_event, created_at)
    SELECT (e->>'eventId')::uuid, $1, $2, ${firstVersionMinusOne} + ord::int, e->>'eventType', e->'eventData', e->'metadata', $6,
      ${writtenAt}
    FROM ${from}, ${newEvents}
    ORDER BY ord
    RETURNING position`;
  // The feed's horizon as this statement's snapshot has it (the second step of `feedHorizon`, see
  // there): the lowest of the `held` transaction ids still running, else `xmax`, both from `feedHorizon`.
  // An expression, written out where it is used: a CTE for it made the feed's planning (most of a
  // read at the tail) 10% slower; with nothing held, as at rest, it is xmax without a subquery.
  const horizonAt = (xmax: string, held: string) => `(CASE WHEN cardinality(${held}) = 0 THEN ${xmax} ELSE (
    SELECT coalesce(min(running), ${xmax}) FROM unnest(${held}) AS running
    WHERE NOT pg_visible_in_snapshot(running, pg_current_snapshot())) END)`;
  // The newest row below the horizon `horizon` meeting `condition`: the farthest a reader's cursor
  // may move, so the feed's reads and its end share it.
  const newestVisible = (condition: string, horizon: string) => `
    SELECT transaction_id::text AS transaction_id, position::text AS position
    FROM ${s}.events
    WHERE ${condition} AND transaction_id < ${horizon}
    ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`;
  // The feed place of the write's last event (the events' transaction_id defaults to this transaction's id).
  const writtenCursor = `pg_current_xact_id()::text AS transaction_id, (SELECT max(position) FROM inserted)::text AS position`;
  const insertSnapshot = (from: string) => `
    INSERT INTO ${s}.snapshots (entity_type, entity_id, entity_version, snapshot_type, snapshot_data, created_at)
    SELECT $1, $2, ${from}.entity_version, $7, $8::jsonb, ${writtenAt} FROM ${from} WHERE $7::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1`;

  // $1 type, $2 id, $3 toVersion, $4 asOf, $5 use snapshots: the version to rebuild to and the snapshot to start from.
  const loadHead = `
      SELECT en.entity_version AS current_version, bound.version AS bound,
        sn.entity_version AS snapshot_version, sn.snapshot_type, sn.snapshot_data,
        ${utc('sn.created_at')} AS snapshot_created_at
      FROM ${s}.entities en
      CROSS JOIN LATERAL (SELECT CASE
          WHEN $4::timestamptz IS NOT NULL THEN (SELECT max(entity_version) FROM ${s}.events
            WHERE entity_type = $1 AND entity_id = $2
              -- rows written before times were kept in milliseconds compare as readers see them
              AND date_trunc('milliseconds', created_at) <= $4::timestamptz)
          ELSE least(coalesce($3::int, en.entity_version), en.entity_version) END AS version) bound
      LEFT JOIN LATERAL (SELECT * FROM ${s}.snapshots
          WHERE $5::boolean AND entity_type = $1 AND entity_id = $2 AND entity_version <= bound.version
          ORDER BY entity_version DESC LIMIT 1) sn ON true
      WHERE en.entity_type = $1 AND en.entity_id = $2`;

  return {
    ping: 'SELECT 1',

    /** The parameters of `append` with expected version 0. One statement: all or nothing. */
    create: `
      WITH created AS (
        INSERT INTO ${s}.entities (entity_type, entity_id, entity_version, created_at, updated_at)
        SELECT $1, $2, $3::int + $4::int, at, at FROM (SELECT ${writtenAt} AS at) clock
        ON CONFLICT DO NOTHING
        RETURNING entity_version
      ),
      inserted AS (${insertEvents('created', '$3::int')}),
      snapshot AS (${insertSnapshot('created')})
      SELECT entity_version, ${writtenCursor} FROM created`,

    /**
     * $1 type, $2 id, $3 expected version, $4 event count, $5 events, $6 token, $7/$8 snapshot.
     * The conditional UPDATE is the optimistic check: no row, no insert. A concurrent writer waits on
     * the row lock and then sees the moved version.
     */
    append: `
      WITH updated AS (
        UPDATE ${s}.entities SET entity_version = $3::int + $4::int, updated_at = ${writtenAt}
        WHERE entity_type = $1 AND entity_id = $2 AND entity_version = $3::int
          AND ($6::text IS NULL OR NOT EXISTS (
            SELECT 1 FROM ${s}.events WHERE entity_type = $1 AND entity_id = $2 AND triggering_event = $6))
        RETURNING entity_version
      ),
      inserted AS (${insertEvents('updated', '$3::int')}),
      snapshot AS (${insertSnapshot('updated')})
      SELECT entity_version, ${writtenCursor} FROM updated`,

    /** Why a create or append wrote nothing: $1 type, $2 id, $3 event ids (with their feed places), $4 token. */
    diagnose: `
      SELECT
        (SELECT entity_version FROM ${s}.entities WHERE entity_type = $1 AND entity_id = $2) AS actual_version,
        (SELECT coalesce(json_agg(json_build_object('eventId', event_id, 'entityType', entity_type,
            'entityId', entity_id, 'entityVersion', entity_version,
            'transactionId', transaction_id::text, 'position', position::text) ORDER BY position), '[]')
          FROM ${s}.events WHERE event_id = ANY($3::uuid[])) AS existing,
        ($4::text IS NOT NULL AND EXISTS (
          SELECT 1 FROM ${s}.events WHERE entity_type = $1 AND entity_id = $2 AND triggering_event = $4)) AS token_seen`,

    /** $1 type, $2 id, $3 toVersion, $4 asOf, $5 use snapshots: the version to rebuild to and the snapshot to start from. */
    loadHead,

    /**
     * loadHead's parameters and columns, and the events a load gives (eventRange's from the snapshot to
     * the bound) packed into one text (packed-events.ts): the server's load in one statement.
     */
    loadPacked: `
      SELECT head.*, (SELECT ${PACKED_EVENTS} FROM ${s}.events
          WHERE entity_type = $1 AND entity_id = $2
            AND entity_version > coalesce(head.snapshot_version, 0) AND entity_version <= head.bound) AS packed_events
      FROM (${loadHead}) head`,

    /** $1 type, $2 id, events with $3 < version ≤ $4. */
    eventRange: `
      SELECT ${entityEventColumns} FROM ${s}.events
      WHERE entity_type = $1 AND entity_id = $2 AND entity_version > $3 AND entity_version <= $4
      ORDER BY entity_version`,

    /** $1 type, $2 id, $3 fromVersion, $4 limit: the current version with each event (one row with null events when none). */
    history: `
      SELECT en.entity_version AS current_version, ev.*
      FROM ${s}.entities en
      LEFT JOIN LATERAL (SELECT ${entityEventColumns} FROM ${s}.events
          WHERE entity_type = $1 AND entity_id = $2 AND entity_version >= $3
          ORDER BY entity_version LIMIT $4) ev ON true
      WHERE en.entity_type = $1 AND en.entity_id = $2
      ORDER BY ev.entity_version`,

    /** $1 type, $2 id: the snapshots at versions $3 to $4. */
    snapshotMarks: `
      SELECT entity_version, snapshot_type, ${utc('created_at')} AS created_at FROM ${s}.snapshots
      WHERE entity_type = $1 AND entity_id = $2 AND entity_version BETWEEN $3 AND $4
      ORDER BY entity_version`,

    /** $1 event id. */
    getEvent: `SELECT ${eventColumns} FROM ${s}.events WHERE event_id = $1::uuid`,

    /** $1 type, $2 id, $3 version, $4 snapshot type, $5 data: stored only if the entity has reached that version. */
    saveSnapshot: `
      WITH target AS (SELECT entity_version FROM ${s}.entities WHERE entity_type = $1 AND entity_id = $2),
      stored AS (
        INSERT INTO ${s}.snapshots (entity_type, entity_id, entity_version, snapshot_type, snapshot_data)
        SELECT $1, $2, $3::int, $4, $5::jsonb FROM target WHERE target.entity_version >= $3::int
        ON CONFLICT (entity_type, entity_id, entity_version)
          DO UPDATE SET snapshot_type = excluded.snapshot_type, snapshot_data = excluded.snapshot_data, created_at = now()
        RETURNING 1)
      SELECT (SELECT entity_version FROM target) AS current_version, (SELECT count(*) FROM stored)::int AS stored`,

    /** $1 type, $2 after id, $3 limit, $4 id prefix. starts_with, not LIKE: `_` is a wildcard there and a character of ids. */
    listEntities: `
      SELECT entity_id, entity_version, ${utc('created_at')} AS created_at, ${utc('updated_at')} AS updated_at FROM ${s}.entities
      WHERE entity_type = $1 AND ($2::text IS NULL OR entity_id > $2) AND ($4::text IS NULL OR starts_with(entity_id, $4))
      ORDER BY entity_id LIMIT $3`,

    listEntityTypes: `
      SELECT entity_type, count(*)::int AS entity_count, sum(entity_version)::bigint::text AS event_count
      FROM ${s}.entities GROUP BY entity_type ORDER BY entity_type`,

    /**
     * The first step of the feed's horizon: which transactions running at this statement's snapshot
     * S1 hold the feed back. `held` (an xid8[] literal) lists every id of S1's running ones not known
     * to belong to another database; `xmax` is S1's xmax. The read that follows (`feed`, `feedEnd`,
     * with a later snapshot S2) takes the second step, `horizonAt`: the horizon H is the lowest held
     * id still running at S2, else xmax(S1). Every committed row with a transaction id below H is
     * visible to S2, and no transaction below H can still insert one. `xmax` - 1 is also the newest
     * transaction id that may have committed: no cursor this store issued lies beyond it. (A
     * cursor's position needs no such bound: rows of transactions up to it are all in, so a larger
     * position passes none.) `store_id` tells a running store that repair-after-restore renumbered
     * the feed under it.
     *
     * Why: take a transaction T whose rows could land in the events table with xid(T) < H.
     * - H <= xmax(S1), so xid(T) < xmax(S1): T had been given its id before S1, and either it
     *   had ended at S1, or it was running and is listed in S1's in-progress ids (xip; PostgreSQL
     *   leaves out only lazy VACUUM and logical decoding, which insert no events).
     * - Ended at S1: committed before S2 was taken, so S2 sees all its rows (or it rolled back).
     * - Running at S1 and held: below H only if S2 no longer sees it running, so it ended before
     *   S2 and S2 sees all its rows.
     * - Running at S1 and not held: this statement saw it as the transaction id of a backend
     *   connected to another database or of a prepared transaction of another database. A backend
     *   stays in its database for life and holds one transaction at a time, and a prepared
     *   transaction keeps its database: T runs in another database and cannot insert into this one's
     *   tables.
     * So nothing below H can commit after S2: a cursor moved up to a row read below H never passes
     * an event that commits later. The identification errs only on the safe side: an id whose owner
     * is not seen (it ended meanwhile, it is moving from its backend to a prepared transaction,
     * statistics hide it) is held, and S2 lets it go only if it has ended by then. (Before S2 took
     * that step, such an id held the horizon for the whole read: another database's long
     * transaction ending while this statement ran hid, for that read, every event written since it
     * began.) The order of the statements matters: `held` from S1 checked with an earlier snapshot
     * would let a transaction ending between the two pass unseen.
     * The statistics are read while this statement runs, after S1 (it is a transaction of its own,
     * so pg_stat_activity's per-transaction cache starts empty). A transaction that got its id
     * before S1 and still runs has had its backend since before S1, in the same status slot, showing
     * its own database; the slot shows another backend only after that one left, ending its
     * transaction or handing it to a prepared transaction, which keeps the database it came from.
     * Ids compare as xid: pg_stat_activity and pg_prepared_xacts give 32-bit xids, the snapshot
     * 64-bit xid8; xid(x) drops the epoch, and two running transactions never share the low 32
     * bits (they are less than 2^31 apart: wraparound protection).
     */
    feedHorizon: `
      WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s)
      SELECT
        coalesce((
          SELECT array_agg(running) FROM pg_snapshot_xip(s) AS running
          WHERE NOT EXISTS (SELECT FROM pg_stat_get_activity(NULL) backend
              WHERE backend.backend_xid = xid(running)
                AND backend.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
            AND NOT EXISTS (SELECT FROM pg_prepared_xacts prepared
              WHERE prepared.transaction = xid(running) AND prepared.database <> current_database())
        ), '{}')::text AS held,
        pg_snapshot_xmax(s)::text AS xmax,
        (SELECT store_id FROM ${s}.store_identity) AS store_id
      FROM snapshot`,

    /**
     * The gap-free feed: $1/$2 the cursor (transaction id, position), $3 limit, $4 entity types or
     * null, $5/$6 `xmax` and `held` from `feedHorizon`, computed by an earlier statement (see there).
     * `newest_*` is the newest row the reader may skip to: with a type filter the cursor moves past
     * rows of other types.
     * The ORDER BYs name `events.` columns: unqualified, they would mean the text aliases of the
     * select list and sort '1000' before '999', so a page would skip rows.
     */
    feed: `
      WITH page AS (
        SELECT ${eventColumns}, transaction_id::text AS transaction_id, position::text AS position
        FROM ${s}.events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND transaction_id < ${horizonAt('$5::xid8', '$6::xid8[]')}
          AND ($4::text[] IS NULL OR entity_type = ANY($4::text[]))
        ORDER BY events.transaction_id, events.position LIMIT $3),
      newest AS (${newestVisible('$4::text[] IS NOT NULL AND (transaction_id, position) > ($1::xid8, $2::bigint)', horizonAt('$5::xid8', '$6::xid8[]'))})
      SELECT page.*, newest.transaction_id AS newest_transaction_id, newest.position AS newest_position
      FROM (SELECT 1) one LEFT JOIN page ON true LEFT JOIN newest ON true
      ORDER BY page.transaction_id::xid8, page.position::bigint`,

    /**
     * Where the feed ends now: the place a reader that read everything would hold, $1/$2 `xmax` and
     * `held` from `feedHorizon`, computed by an earlier statement (as for `feed`). No row: the feed is
     * empty (below the horizon). One index step back from the horizon, whatever the feed's length.
     */
    feedEnd: newestVisible('true', horizonAt('$1::xid8', '$2::xid8[]')),

    /**
     * The store's identity, and whether its events hold transaction ids the cluster has not reached:
     * a restore into a new cluster (whose counter starts low) or a logical copy.
     */
    storeIdentity: `
      SELECT store_id, accepts_unidentified_cursors,
        (SELECT max(transaction_id) FROM ${s}.events)::text AS newest_transaction_id,
        pg_snapshot_xmax(pg_current_snapshot())::text AS present_xmax
      FROM ${s}.store_identity`,
  };
}

export type Queries = ReturnType<typeof buildQueries>;
