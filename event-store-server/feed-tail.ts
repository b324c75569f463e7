import { sleep } from '../src/backoff';
import { decodeCursor } from '../src/cursor';
import { waitForCommit } from '../src/long-poll';
import { FeedOptions, FeedPage, MAX_PAGE_SIZE } from '../src/model';
import type { AnswerEvent } from './event-json';
import { checkEntityType, pageSize } from '../src/validation';
import { FeedWaiters, Waiter } from './feed-waiters';
import { FeedWindow, WindowCapacity } from './feed-window';
import { AnswerReads, answerReads, ServerStore } from './server-store';

export interface FeedTailOptions {
  /**
   * While readers wait and no commit is announced, the tail reads again this often: a safety net,
   * commits wake it. Default 1000 ms.
   */
  fallbackPollMs?: number;
  /** Events kept behind the tail, from which readers a little behind are answered without a query. Default 10,000. */
  windowEvents?: number;
  /** At most this much of them, as JSON, in characters. Default 32 Mi. */
  windowSize?: number;
  /** Told why the tail stopped following the feed (its waiting readers get the same error). */
  onError?: (err: Error) => void;
}

export interface FeedReadRequest extends Omit<FeedOptions, 'waitMs'> {
  /** Wait up to this long for events of the reader's types; 0 reads the store at once. */
  waitMs: number;
}

export const DEFAULT_FALLBACK_POLL_MS = 1000;
const DEFAULT_WINDOW_EVENTS = 10_000;
const DEFAULT_WINDOW_SIZE = 32 * 1024 * 1024;
/** The tail reads the unfiltered feed in the largest pages the store gives. */
const TAIL_PAGE_SIZE = MAX_PAGE_SIZE;
/**
 * After a commit whose events are not readable yet (an older transaction of the database still
 * open, which announces nothing when it ends), read again soon, doubling the pause from the first
 * to the last of these; past them, only a commit or the fallback poll wakes the tail.
 */
const RECHECK_FIRST_MS = 20;
const RECHECK_LAST_MS = 640;
/**
 * Commits announced during a read are read together after this pause, so a busy feed costs a read
 * per batch, not per commit (npm run bench -- readers, 16 writers: about 45 reads a second with
 * 5 ms, 33 with 20 ms). Readers then see a busy feed up to this much later; the first commit
 * after a quiet spell is read at once.
 */
const BATCH_PAUSE_MS = 20;
/** With no reader for this long, the tail stops reading (the next reader starts it again where the store then is). */
const IDLE_STOP_MS = 10_000;

/**
 * One reader of the feed for the whole process. While readers wait, the tail reads each new page
 * of the feed once, after a commit wakes it, and hands it to every waiting reader it concerns,
 * filtering by entity type in memory; recent pages stay in a window that answers readers a little
 * behind. A reader behind the window (or before the tail has started) reads the store itself, on
 * its catch-up connections, until it reaches the window. So the feed's cost per commit does not
 * grow with the number of readers, and however many there are, they never take the writers'
 * connections.
 *
 * The hand-over from the store to the window is exact because both answer the same question the
 * same way: "the events after this cursor". The window holds every event from where the tail
 * started up to the tail, so a cursor in that range is answered from memory; one below it reads
 * the store and asks again with the cursor the store gave; one past the tail waits for the tail
 * and takes only what lies past it. No event is given twice or skipped: every answer starts
 * strictly after the reader's cursor and ends at the cursor returned with it.
 */
export class FeedTail {
  /** Reads of the store: by the tail, and by readers behind it (or reading without waiting). */
  readonly stats = { tailReads: 0, catchUpReads: 0 };
  private readonly fallbackPollMs: number;
  private readonly windowCapacity: WindowCapacity;
  private window?: FeedWindow<AnswerEvent>;
  private readonly waiters = new FeedWaiters();
  /** read() calls under way that may wait; the tail stops once there has been none for a while. */
  private readers = 0;
  private lastReaderLeft = Date.now();
  private wakes = 0;
  private wakeUp?: (woke: boolean) => void;
  private stopCommits?: () => void;
  private followingDone?: Promise<void>;
  private closed = false;
  /** The store's feed with the events' JSON as text (when it has it), which every reader's answer is written from. */
  private readonly reads: AnswerReads;

  constructor(
    private readonly store: ServerStore,
    private readonly options: FeedTailOptions = {},
  ) {
    this.reads = answerReads(store);
    this.fallbackPollMs = options.fallbackPollMs ?? DEFAULT_FALLBACK_POLL_MS;
    this.windowCapacity = { events: options.windowEvents ?? DEFAULT_WINDOW_EVENTS, size: options.windowSize ?? DEFAULT_WINDOW_SIZE };
  }

  /** Readers waiting at the tail now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** True while the tail follows the feed. */
  get following(): boolean {
    return this.window !== undefined;
  }

  /**
   * The events after `after`, like the store's readFeed: at once when there are some (from the
   * window, or from the store for a reader behind it), else the first events of the reader's types
   * the tail reads within `waitMs`. A read with `waitMs` 0 always asks the store, so it sees every
   * commit up to now.
   */
  async read(request: FeedReadRequest): Promise<FeedPage<AnswerEvent>> {
    if (request.waitMs <= 0) return this.readStore(request);
    this.readers++;
    try {
      return await this.readWaiting(request);
    } finally {
      this.readers--;
      this.lastReaderLeft = Date.now();
    }
  }

  /** Stops following the feed; waiting readers get an empty page at the tail. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    await this.followingDone;
  }

  private async readWaiting(request: FeedReadRequest): Promise<FeedPage<AnswerEvent>> {
    const { entityTypes, waitMs, signal } = request;
    const limit = pageSize(request.limit);
    entityTypes?.forEach(checkEntityType);
    const types = entityTypes?.length ? new Set(entityTypes) : undefined;
    const deadline = Date.now() + waitMs;
    let cursor = request.after ?? '';
    /** The cursor the store last answered with: a place its feed has reached, so worth waiting for. */
    let confirmed: string | undefined;
    for (;;) {
      const window = this.window;
      const place = window?.place(cursor) ?? 'behind';
      if (window && place === 'within') {
        const page = window.pageAfter(cursor, types, limit);
        if (page.events.length > 0 || deadline <= Date.now() || signal?.aborted) return page;
        return this.waitAtTail(window, page.cursor, types, limit, deadline - Date.now(), signal);
      }
      if (window && place === 'ahead' && cursor === confirmed) {
        if (deadline <= Date.now() || signal?.aborted) return { events: [], cursor };
        return this.waitAtTail(window, cursor, types, limit, deadline - Date.now(), signal);
      }
      const page = await this.readStore({ after: cursor, limit, entityTypes, signal });
      // Fewer than a page: the store had nothing more to give, so the tail can start from here.
      if (page.events.length < limit) this.follow(page.cursor);
      if (page.events.length > 0 || deadline <= Date.now() || signal?.aborted || this.closed) return page;
      if (page.cursor === cursor && this.window?.place(cursor) === 'behind') {
        // The tail started past this reader's cursor (from a reader whose cursor was ahead of what
        // the store could show then) and the store has nothing newer for it yet: ask again after a
        // commit rather than at once.
        await waitForCommit((listener) => this.store.onCommit(listener), Math.min(this.fallbackPollMs, deadline - Date.now()), signal);
      }
      cursor = confirmed = page.cursor;
    }
  }

  private readStore(options: Omit<FeedOptions, 'waitMs'>): Promise<FeedPage<AnswerEvent>> {
    this.stats.catchUpReads++;
    return this.reads.readFeedCatchUp ? this.reads.readFeedCatchUp(options) : this.reads.readFeed(options);
  }

  /** Waits at the tail (or past it, where `cursor` lies ahead) for events of `types`. */
  private waitAtTail(
    window: FeedWindow<AnswerEvent>,
    cursor: string,
    types: ReadonlySet<string> | undefined,
    limit: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<FeedPage<AnswerEvent>> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
      };
      // Nothing came: the reader has still seen every event up to the tail, of its types or not.
      const atTail = (): FeedPage<AnswerEvent> => ({ events: [], cursor: waiter.ahead ? cursor : window.tailCursor });
      const giveUp = () => {
        this.waiters.remove(waiter);
        settle();
        resolve(atTail());
      };
      const waiter: Waiter = {
        types,
        limit,
        ahead: window.place(cursor) === 'ahead' ? decodeCursor(cursor) : undefined,
        deliver: (page) => {
          settle();
          resolve(page);
        },
        end: (err) => {
          settle();
          if (err) reject(err);
          else resolve(atTail());
        },
      };
      const timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Starts following the feed from `anchor` (a cursor the store answered with), unless it already does. */
  private follow(anchor: string): void {
    if (this.window || this.closed) return;
    const window = new FeedWindow<AnswerEvent>(anchor, this.windowCapacity);
    this.window = window;
    this.stopCommits = this.store.onCommit(() => {
      this.wakes++;
      this.wakeUp?.(true);
    });
    this.followingDone = this.run(window);
  }

  private async run(window: FeedWindow<AnswerEvent>): Promise<void> {
    let recheckMs = RECHECK_FIRST_MS;
    while (this.window === window) {
      if (this.readers === 0 && Date.now() - this.lastReaderLeft >= IDLE_STOP_MS) {
        this.stop();
        return;
      }
      const wakes = this.wakes;
      try {
        this.stats.tailReads++;
        const page = await this.reads.readFeed({ after: window.tailCursor, limit: TAIL_PAGE_SIZE });
        if (this.window !== window) return;
        const added = window.append(page);
        this.waiters.deliver(added, window.tailPosition, window.tailCursor);
        if (page.events.length === TAIL_PAGE_SIZE) continue;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (this.window === window) {
          this.options.onError?.(error);
          this.stop(error);
        }
        return;
      }
      if (this.wakes !== wakes) {
        recheckMs = RECHECK_FIRST_MS;
        await sleep(BATCH_PAUSE_MS);
        continue;
      }
      const woke = await this.nextWake(recheckMs <= RECHECK_LAST_MS ? Math.min(recheckMs, this.fallbackPollMs) : this.fallbackPollMs);
      recheckMs = woke ? RECHECK_FIRST_MS : Math.min(recheckMs * 2, RECHECK_LAST_MS * 2);
    }
  }

  /** True when a commit woke the tail, false when `timeoutMs` passed or the tail stopped. */
  private nextWake(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woke: boolean) => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(woke);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.wakeUp = done;
    });
  }

  /** Stops following; waiting readers get `err`, or an empty page at the tail. */
  private stop(err?: Error): void {
    this.window = undefined;
    this.stopCommits?.();
    this.stopCommits = undefined;
    this.wakeUp?.(false);
    for (const waiter of this.waiters.takeAll()) waiter.end(err);
  }
}
