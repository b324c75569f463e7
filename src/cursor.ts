import { randomBytes } from 'node:crypto';
import { InvalidCursorError } from './errors';

/**
 * A place in the global feed: the committing transaction's id and the row's position.
 * Readers go in (transactionId, position) order.
 */
export interface FeedPosition {
  transactionId: bigint;
  position: bigint;
}

export const FEED_START: FeedPosition = { transactionId: 0n, position: 0n };

/**
 * The store a cursor belongs to. `storeId` is written into every cursor the store issues, so a
 * cursor read against another store (another database, schema, in-memory instance, or this store
 * after `repair-after-restore` renumbered its feed) is refused instead of silently skipping events.
 */
export interface CursorIssuer {
  /** 16 lowercase hex digits. */
  storeId: string;
  /**
   * Cursors of versions before identities carry none. A store that already had events when it
   * got its identity may have issued them, so it reads them; any other store refuses them.
   */
  acceptsUnidentifiedCursors: boolean;
}

export interface DecodedCursor extends FeedPosition {
  /** The issuing store; undefined for an unidentified cursor (the start of the feed, or one of an earlier version). */
  storeId?: string;
}

const STORE_ID = /^[0-9a-f]{16}$/;
const MAX_U64 = (1n << 64n) - 1n;
// Layout of a cursor before base64url: version byte, store id (8 bytes), transaction id and position (8 bytes each, big-endian).
const VERSION = 1;
const LENGTH = 25;

/** The feed's order: by transaction id, then position. */
export function compareFeedPositions(a: FeedPosition, b: FeedPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}

/** A new random store identity (64 bits). */
export function newStoreId(): string {
  return randomBytes(8).toString('hex');
}

/** The one cursor encoder: every cursor a store hands out comes from here. */
export function encodeCursor(storeId: string, p: FeedPosition): string {
  if (!STORE_ID.test(storeId)) throw new Error(`not a store id: ${JSON.stringify(storeId)}`);
  const bytes = Buffer.alloc(LENGTH);
  bytes.writeUInt8(VERSION, 0);
  bytes.write(storeId, 1, 'hex');
  bytes.writeBigUInt64BE(p.transactionId, 9);
  bytes.writeBigUInt64BE(p.position, 17);
  return bytes.toString('base64url');
}

/**
 * The cursor's parts, checked for form only (who issued it is `positionIn`'s question). Absent or
 * empty: the start of the feed. Anything malformed is an InvalidCursorError.
 */
export function decodeCursor(cursor: string | undefined): DecodedCursor {
  if (cursor === undefined || cursor === '') return { ...FEED_START };
  const bytes = Buffer.from(cursor, 'base64url');
  // Base64url decoding skips what it cannot read; only the canonical spelling of the bytes is a cursor.
  if (bytes.toString('base64url') === cursor) {
    if (bytes.length === LENGTH && bytes[0] === VERSION) {
      return { storeId: bytes.toString('hex', 1, 9), transactionId: bytes.readBigUInt64BE(9), position: bytes.readBigUInt64BE(17) };
    }
    // The cursor of earlier versions: "<transaction id>.<position>", no identity.
    const match = /^(0|[1-9]\d{0,19})\.(0|[1-9]\d{0,19})$/.exec(bytes.toString('latin1'));
    if (match && BigInt(match[1]) <= MAX_U64 && BigInt(match[2]) <= MAX_U64) {
      return { transactionId: BigInt(match[1]), position: BigInt(match[2]) };
    }
  }
  throw new InvalidCursorError(`not a feed cursor: ${JSON.stringify(cursor.slice(0, 100))}`);
}

const START_AGAIN = 'Start again without a cursor (the whole feed) or from a cursor this store gave';

/** Where `cursor` points in the feed of `issuer`, or why it is no place there. */
export function placeIn(cursor: string | undefined, issuer: CursorIssuer): { position: FeedPosition } | { refused: string } {
  let decoded: DecodedCursor;
  try {
    decoded = decodeCursor(cursor);
  } catch (err) {
    return { refused: (err as Error).message };
  }
  const position = { transactionId: decoded.transactionId, position: decoded.position };
  if (decoded.storeId === issuer.storeId) return { position };
  if (decoded.storeId !== undefined) {
    return {
      refused:
        `the cursor was issued by another event store (${decoded.storeId}; this one is ${issuer.storeId}): a cursor is only ` +
        `valid on the store that gave it (after repair-after-restore, cursors from before the repair are another store's)`,
    };
  }
  // An unidentified start cannot skip anything, whichever store it came from.
  if ((decoded.transactionId === 0n && decoded.position === 0n) || issuer.acceptsUnidentifiedCursors) return { position };
  return {
    refused:
      `the cursor carries no store identity (an earlier version's cursor) and this store (${issuer.storeId}) never issued such ` +
      `cursors: it was created after cursors carried their store's identity, or renumbered by repair-after-restore`,
  };
}

/** Where `cursor` points in the feed of `issuer`; an InvalidCursorError when it is malformed or not the issuer's. */
export function positionIn(cursor: string | undefined, issuer: CursorIssuer): FeedPosition {
  const placed = placeIn(cursor, issuer);
  if ('refused' in placed) throw new InvalidCursorError(`${placed.refused}. ${START_AGAIN}`);
  return placed.position;
}

/**
 * A cursor beyond what the store has ever committed comes from elsewhere (or was made up): reading
 * on would skip what comes. `present.position` is left out where positions cannot skip anything.
 */
export function refusePastPresent(position: FeedPosition, present: { transactionId: bigint; position?: bigint }): void {
  if (position.transactionId > present.transactionId || (present.position !== undefined && position.position > present.position)) {
    const reached = present.position === undefined ? '' : `, position ${present.position}`;
    throw new InvalidCursorError(
      `the cursor points past this store's present (transaction ${position.transactionId}, position ${position.position}; ` +
        `the store has reached transaction ${present.transactionId}${reached}): it was not issued by this store's feed as ` +
        `it is now. ${START_AGAIN}`,
    );
  }
}

/**
 * The order of two cursors of one store's feed: negative when `a` lies before `b`, 0 at the same
 * place, positive after. A write's `cursor` compared with a reader's checkpoint says whether that
 * reader has read the write: it has when its cursor is at or past the write's. Absent or empty is
 * the start of the feed, before everything. Cursors of two stores have no order between them (the
 * same numbers mean different events there), so they are refused with an InvalidCursorError naming
 * both stores; so is a cursor without a store identity (an earlier version's), which could be either's.
 */
export function compareCursors(a: string | undefined, b: string | undefined): number {
  const [first, second] = [decodeCursor(a), decodeCursor(b)];
  const isStart = (c: DecodedCursor) => c.transactionId === 0n && c.position === 0n;
  for (const [cursor, decoded] of [
    [a, first],
    [b, second],
  ] as const) {
    if (decoded.storeId === undefined && !isStart(decoded)) {
      throw new InvalidCursorError(
        `cannot compare cursor ${JSON.stringify(cursor)}: it carries no store identity (an earlier version's cursor), so which ` +
          `store's feed it belongs to is unknown. Compare cursors the store gives now`,
      );
    }
  }
  if (first.storeId !== undefined && second.storeId !== undefined && first.storeId !== second.storeId) {
    throw new InvalidCursorError(
      `cannot compare cursors of two event stores (${first.storeId} and ${second.storeId}): a cursor has an order only in ` +
        `the feed of the store that gave it (after repair-after-restore, cursors from before the repair are another store's)`,
    );
  }
  return compareFeedPositions(first, second);
}
