import type { CursorIssuer } from '../cursor';

/**
 * The database holds events whose transaction ids the cluster has not reached: it was restored
 * from a dump (or copied logically) into a cluster whose transaction counter starts lower. Read as
 * it is, the restored events would stay hidden from the feed (above its horizon) and sort after
 * every new event, and cursors would skip the new events for ever; so the store refuses to start.
 */
export class DatabaseRestoredError extends Error {
  constructor(
    readonly schema: string,
    readonly newestTransactionId: bigint,
    readonly presentTransactionId: bigint,
  ) {
    super(
      `schema ${schema} holds events of transaction ${newestTransactionId}, but this PostgreSQL cluster has only reached ` +
        `transaction ${presentTransactionId}: the database was restored (or copied) from another cluster. The event store ` +
        `will not start on it, because its feed would hide the restored events and let cursors skip new ones. ` +
        `Repair it once, with every server and relay of this store stopped: \`eventuate-local repair-after-restore\` ` +
        `(same DATABASE_URL and EVENTUATE_SCHEMA). The repair renumbers the feed in its present order and gives the store a ` +
        `new identity: the relay's cursors and subscriber cursors kept in this schema are carried over, every other stored ` +
        `cursor is refused afterwards and its reader must start again (see README, "Restoring a backup")`,
    );
    this.name = 'DatabaseRestoredError';
  }
}

export interface StoreIdentityRow {
  store_id: string;
  accepts_unidentified_cursors: boolean;
  /** null when there are no events. */
  newest_transaction_id: string | null;
  present_xmax: string;
}

/** The store's identity, or DatabaseRestoredError when its events lie in the cluster's future. */
export function issuerOf(schema: string, row: StoreIdentityRow): CursorIssuer {
  if (row.newest_transaction_id !== null && BigInt(row.newest_transaction_id) >= BigInt(row.present_xmax)) {
    throw new DatabaseRestoredError(schema, BigInt(row.newest_transaction_id), BigInt(row.present_xmax) - 1n);
  }
  return { storeId: row.store_id, acceptsUnidentifiedCursors: row.accepts_unidentified_cursors };
}
