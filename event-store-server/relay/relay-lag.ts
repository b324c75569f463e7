import { decodeCursor } from '../../src/cursor';
import type { Queryable } from '../../src/postgres/named-cursor-table';
import { quoteIdent } from '../../src/postgres/sql';

export interface RelayLag {
  /** Committed events after the cursor (counted up to LAG_COUNT_LIMIT). */
  events: number;
  /** Age of the oldest of them; 0 when there are none. */
  seconds: number;
}

/** Counting stops here, so a huge backlog costs a bounded scan. */
export const LAG_COUNT_LIMIT = 1_000_000;

/** How far `cursor` is behind the newest committed event. Uses the database's clock for the age. */
export async function measureLag(client: Queryable, schema: string, cursor: string): Promise<RelayLag> {
  const events = `${quoteIdent(schema)}.events`;
  const position = decodeCursor(cursor);
  const { rows } = await client.query<{ events: number; seconds: number | null }>(
    `SELECT
       (SELECT count(*) FROM (SELECT 1 FROM ${events} WHERE (transaction_id, position) > ($1::xid8, $2::bigint) LIMIT ${LAG_COUNT_LIMIT}) behind)::int AS events,
       (SELECT extract(epoch FROM now() - created_at)::float8 FROM ${events}
         WHERE (transaction_id, position) > ($1::xid8, $2::bigint) ORDER BY transaction_id, position LIMIT 1) AS seconds`,
    [position.transactionId.toString(), position.position.toString()],
  );
  return { events: rows[0].events, seconds: Math.max(0, rows[0].seconds ?? 0) };
}
