import { ValidationError } from './errors';

/**
 * A place in the global feed: the committing transaction's id and the row's position.
 * Readers go in (transactionId, position) order; the cursor is opaque to them.
 */
export interface FeedPosition {
  transactionId: bigint;
  position: bigint;
}

export const FEED_START: FeedPosition = { transactionId: 0n, position: 0n };

export function encodeCursor(p: FeedPosition): string {
  return Buffer.from(`${p.transactionId}.${p.position}`).toString('base64url');
}

/** Absent or empty: the start of the feed. Anything malformed is a ValidationError. */
export function decodeCursor(cursor: string | undefined): FeedPosition {
  if (cursor === undefined || cursor === '') return FEED_START;
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || encodeCursor({ transactionId: BigInt(match[1]), position: BigInt(match[2]) }) !== cursor) {
    throw new ValidationError(`not a feed cursor: ${JSON.stringify(cursor.slice(0, 100))}`);
  }
  return { transactionId: BigInt(match[1]), position: BigInt(match[2]) };
}

export function compareFeedPositions(a: FeedPosition, b: FeedPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}
