import type { FeedPage } from '../../src/model';
import type { EventWithData } from '../../src/stored-event-text';

/** Pages taken together: their events in feed order, and the cursor after the last of them. */
export interface Batch {
  events: EventWithData[];
  cursor: string;
  /** The last page read was not full: the feed had no more then. */
  caughtUp: boolean;
}

/**
 * Reads the feed ahead of the relay's publishing: a read is in flight whenever fewer than `limit`
 * events wait, so events committed while a batch is being published are read meanwhile and go in the
 * next batch, instead of waiting for a read that starts only once that publish ended. Pages are kept
 * and handed out in the order read, each after the one before: nothing is skipped or reordered.
 */
export class ReadAhead {
  private readonly pages: FeedPage<EventWithData>[] = [];
  private waiting = 0;
  private failure?: { error: unknown };
  /** Wakes the reader (space freed) or the taker (a page or a failure arrived). */
  private wakeReader?: () => void;
  private wakeTaker?: () => void;

  constructor(
    private readonly read: (after: string) => Promise<FeedPage<EventWithData>>,
    private after: string,
    /** The most events waiting, and in one batch. */
    private readonly limit: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
    void this.run();
  }

  /** Pages read and not yet taken. */
  get pagesWaiting(): number {
    return this.pages.length;
  }

  /**
   * Resolves true once a page was read and waits to be taken, false once the signal aborted. A failed
   * read is thrown once the pages read before it were taken.
   */
  async ready(): Promise<boolean> {
    while (this.pages.length === 0) {
      if (this.signal.aborted) return false;
      if (this.failure) throw this.failure.error;
      await new Promise<void>((resolve) => (this.wakeTaker = resolve));
    }
    return !this.signal.aborted;
  }

  /**
   * The pages read so far, at most `maxPages` of them and `limit` events (at least one page), waiting
   * for one if none is; undefined once the signal aborted. A failed read is thrown once the pages read
   * before it were taken.
   */
  async take(maxPages = Infinity): Promise<Batch | undefined> {
    if (!(await this.ready())) return undefined;
    const events: EventWithData[] = [];
    let last: FeedPage<EventWithData>;
    let taken = 0;
    do {
      last = this.pages.shift()!;
      events.push(...last.events);
      taken++;
    } while (taken < maxPages && this.pages.length > 0 && events.length + this.pages[0].events.length <= this.limit);
    this.waiting -= events.length;
    this.wake();
    return { events, cursor: last.cursor, caughtUp: last.events.length < this.limit };
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      if (this.waiting >= this.limit) {
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
        continue;
      }
      let page: FeedPage<EventWithData>;
      try {
        page = await this.read(this.after);
      } catch (error) {
        this.failure = { error };
        this.wake();
        return;
      }
      if (this.signal.aborted) return;
      // A page that neither has events nor moves the cursor (a long poll that found nothing) is no news.
      if (page.events.length === 0 && page.cursor === this.after) continue;
      this.after = page.cursor;
      this.pages.push(page);
      this.waiting += page.events.length;
      this.wake();
    }
  }

  private wake(): void {
    const reader = this.wakeReader;
    const taker = this.wakeTaker;
    this.wakeReader = this.wakeTaker = undefined;
    reader?.();
    taker?.();
  }
}
