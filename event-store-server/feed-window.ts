import { compareFeedPositions, decodeCursor, DecodedCursor, FeedPosition } from '../src/cursor';
import type { FeedPage, StoredEvent } from '../src/model';
import { AnswerEvent, sharedEventJson } from './event-json';

/** A feed event with its place decoded once, so readers compare positions without decoding cursors. */
export interface TailEvent<E extends AnswerEvent = AnswerEvent> {
  event: E;
  position: FeedPosition;
  /** Its size as JSON, in characters: what it weighs in the window. */
  size: number;
}

/** The most the window keeps. */
export interface WindowCapacity {
  events: number;
  /** Of the events as JSON, in characters: events can be megabytes each. */
  size: number;
}

/** Where a reader's cursor lies relative to the window. */
export type Place = 'behind' | 'within' | 'ahead';

/**
 * The newest events of the feed (the tail's hold their JSON as text when the store gives it; E is
 * the kind of event), read by the tail in order from where it started: every event
 * after `start` up to the tail is here, none missing (the tail reads the unfiltered feed page after
 * page from its own cursor), so a reader whose cursor lies in that range is answered from memory
 * exactly as the store would answer it. Older events drop out once `capacity` is passed; readers
 * behind that point read the store themselves.
 */
export class FeedWindow<E extends AnswerEvent = StoredEvent> {
  private events: TailEvent<E>[] = [];
  private size = 0;
  /** The store whose feed this is, as its cursors name it: another store's cursor (or an unidentified one) is never answered from here. */
  private readonly storeId?: string;
  private start: FeedPosition;
  private tail: FeedPosition;
  private cursorOfTail: string;

  /** `anchor`: a cursor the store answered with; the window covers the feed from there on. */
  constructor(
    anchor: string,
    private readonly capacity: WindowCapacity,
  ) {
    const { storeId, ...start } = decodeCursor(anchor);
    this.storeId = storeId;
    this.start = start;
    this.tail = this.start;
    this.cursorOfTail = anchor;
  }

  /** The cursor after every event the tail has read: where the tail reads next. */
  get tailCursor(): string {
    return this.cursorOfTail;
  }

  get tailPosition(): FeedPosition {
    return this.tail;
  }

  /**
   * 'within' when the window can answer for `cursor`; 'ahead' when it lies past the tail (the tail
   * has not read that far yet); 'behind' when older than the window, or not a cursor the window can
   * judge (malformed, or not this store's: the store's read gives the proper error).
   */
  place(cursor: string): Place {
    let position: DecodedCursor;
    try {
      position = decodeCursor(cursor);
    } catch {
      return 'behind';
    }
    if (position.storeId !== this.storeId) return 'behind';
    if (compareFeedPositions(position, this.start) < 0) return 'behind';
    return compareFeedPositions(position, this.tail) <= 0 ? 'within' : 'ahead';
  }

  /**
   * What the store would answer to a read after `cursor` (which must be 'within'): up to `limit`
   * events of `types` (all when undefined), and the cursor to read after next, which passes the
   * other types' events up to the tail when fewer than `limit` matched.
   */
  pageAfter(cursor: string, types: ReadonlySet<string> | undefined, limit: number): FeedPage<E> {
    const after = decodeCursor(cursor);
    const events: E[] = [];
    for (let i = this.firstAfter(after); i < this.events.length && events.length < limit; i++) {
      const { event } = this.events[i];
      if (!types || types.has(event.entityType)) events.push(event);
    }
    if (events.length === limit) return { events, cursor: events[limit - 1].cursor! };
    return { events, cursor: compareFeedPositions(after, this.tail) < 0 ? this.cursorOfTail : cursor };
  }

  /** Adds the events of the unfiltered page the tail read after `tailCursor`; the tail moves to the last. */
  append(page: FeedPage<E>): TailEvent<E>[] {
    const added = page.events.map((event) => ({ event, position: decodeCursor(event.cursor), size: sharedEventJson(event).length }));
    for (const { position, event } of added) {
      // The store's order is the feed's: anything else would make the window answer wrongly, so stop loudly.
      if (compareFeedPositions(position, this.tail) <= 0) {
        throw new Error(`the feed tail read event ${event.eventId} at or before its own cursor: the store's feed went out of order`);
      }
      this.tail = position;
    }
    if (added.length > 0) this.cursorOfTail = page.events[page.events.length - 1].cursor!;
    this.events.push(...added);
    for (const { size } of added) this.size += size;
    let excess = 0;
    while (excess < this.events.length && (this.events.length - excess > this.capacity.events || this.size > this.capacity.size)) {
      this.size -= this.events[excess].size;
      excess++;
    }
    if (excess > 0) {
      this.start = this.events[excess - 1].position;
      this.events = this.events.slice(excess);
    }
    return added;
  }

  /** Index of the first event after `position` (binary search: the events are in feed order). */
  private firstAfter(position: FeedPosition): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareFeedPositions(this.events[middle].position, position) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
