import { WRITTEN_AT } from './queries';

/** One create or append of a group, as the group statement reads it. */
export interface GroupWriteMember {
  create: boolean;
  entityType: string;
  entityId: string;
  /** 0 for a create. */
  expectedVersion: number;
  /** The events as JSON text (the same text the member's own statement gets). */
  eventsJson: string;
  triggeringEventToken: string | null;
  snapshotType: string | null;
  /** JSON text, or null. */
  snapshotDataJson: string | null;
}

/**
 * The member as one element of the group statement's JSON array; `member` is its 1-based place in
 * the group, by which the answer's rows are matched back. The events and snapshot are spliced in as
 * the JSON text they already are, not stringified again.
 */
export function groupMemberJson(member: number, m: GroupWriteMember): string {
  const head = JSON.stringify({ m: member, c: m.create, t: m.entityType, i: m.entityId, v: m.expectedVersion, k: m.triggeringEventToken, st: m.snapshotType });
  return `${head.slice(0, -1)},"e":${m.eventsJson},"sd":${m.snapshotDataJson ?? 'null'}}`;
}

/**
 * The creates and appends of a group in one statement (one transaction, one commit), $1 the JSON
 * array of `groupMemberJson`s, at most one per entity. Each member is checked as its own statement
 * (`create`, `append` in queries.ts) checks it — a create inserts only a new entity, an append moves
 * only an entity at its expected version whose events hold no such triggering token — and writes
 * its events and snapshot only when that passed; a member that fails its check writes nothing and
 * returns no row, for its own diagnosis. The events go in member by member, each member's in
 * version order, so one member's events are contiguous in the feed. One row per member that wrote:
 * its number, its new version, and its feed place (the transaction, and its own last event).
 */
export function groupWriteQuery(s: string): string {
  return `
    WITH members AS MATERIALIZED (
      SELECT (m->>'m')::int AS member, (m->>'c')::boolean AS is_create, m->>'t' AS entity_type, m->>'i' AS entity_id,
        (m->>'v')::int AS expected_version, jsonb_array_length(m->'e') AS n, m->'e' AS events, m->>'k' AS token,
        m->>'st' AS snapshot_type, m->'sd' AS snapshot_data, seen.token_seen
      FROM jsonb_array_elements($1::jsonb) AS g(m)
      -- One index probe per member: a NOT EXISTS under OR in the UPDATE is planned as a hash of every
      -- event with a token, a scan of the whole table.
      LEFT JOIN LATERAL (SELECT true AS token_seen FROM ${s}.events ev
        WHERE ev.entity_type = m->>'t' AND ev.entity_id = m->>'i' AND ev.triggering_event = m->>'k' LIMIT 1) seen ON true
    ),
    created AS (
      INSERT INTO ${s}.entities (entity_type, entity_id, entity_version, created_at, updated_at)
      SELECT entity_type, entity_id, n, at, at FROM (SELECT *, ${WRITTEN_AT} AS at FROM members WHERE is_create) c
      ON CONFLICT DO NOTHING
      RETURNING entity_type, entity_id, entity_version
    ),
    updated AS (
      UPDATE ${s}.entities en SET entity_version = mb.expected_version + mb.n, updated_at = ${WRITTEN_AT}
      FROM members mb
      WHERE NOT mb.is_create AND en.entity_type = mb.entity_type AND en.entity_id = mb.entity_id
        AND en.entity_version = mb.expected_version AND mb.token_seen IS NULL
      RETURNING en.entity_type, en.entity_id, en.entity_version
    ),
    written AS MATERIALIZED (
      SELECT mb.*, w.entity_version AS new_version
      FROM members mb JOIN (SELECT * FROM created UNION ALL SELECT * FROM updated) w
        ON w.entity_type = mb.entity_type AND w.entity_id = mb.entity_id
    ),
    inserted AS (
      INSERT INTO ${s}.events (event_id, entity_type, entity_id, entity_version, event_type, event_data, metadata, triggering_event, created_at)
      SELECT (e->>'eventId')::uuid, w.entity_type, w.entity_id, w.expected_version + ord::int, e->>'eventType', e->'eventData',
        e->'metadata', w.token, ${WRITTEN_AT}
      FROM written w, jsonb_array_elements(w.events) WITH ORDINALITY AS batch(e, ord)
      ORDER BY w.member, ord
      RETURNING entity_type, entity_id, position
    ),
    snapshot AS (
      INSERT INTO ${s}.snapshots (entity_type, entity_id, entity_version, snapshot_type, snapshot_data, created_at)
      SELECT entity_type, entity_id, new_version, snapshot_type, snapshot_data, ${WRITTEN_AT} FROM written WHERE snapshot_type IS NOT NULL
      ON CONFLICT DO NOTHING
      RETURNING 1
    ),
    last_event AS (SELECT entity_type, entity_id, max(position) AS position FROM inserted GROUP BY entity_type, entity_id)
    SELECT w.member, w.new_version AS entity_version, pg_current_xact_id()::text AS transaction_id, l.position::text AS position
    FROM written w JOIN last_event l ON l.entity_type = w.entity_type AND l.entity_id = w.entity_id`;
}
