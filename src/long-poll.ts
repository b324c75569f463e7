import type { FeedPage } from './model';

export interface CommitWaiter {
  /** Calls `listener` after each commit of events; returns the unsubscribe function. */
  onCommit(listener: () => void): () => void;
}

/** Without any notification, look again this often: a safety net, not the mechanism. */
export const DEFAULT_FALLBACK_POLL_MS = 1000;
/**
 * After a commit whose events are not readable yet (an older transaction of this database is still
 * open), look again soon, doubling the pause from the first to the last of these; past it, only a
 * commit announcement or the fallback poll wakes the reader.
 */
const RECHECK_FIRST_MS = 20;
const RECHECK_LAST_MS = 640;

export interface LongPollOptions {
  waitMs: number;
  signal?: AbortSignal;
  /** Default DEFAULT_FALLBACK_POLL_MS. */
  fallbackPollMs?: number;
}

/**
 * Reads the feed until it returns events or `waitMs` passes, sleeping between reads until a commit
 * is announced. Shared by every store that implements `readFeed`. Commits are heard from before each
 * read: one announced while a read runs, too late for its snapshot, sends the reader back at once
 * instead of into a pause that no later commit may shorten.
 */
export async function longPoll<E>(
  cursor: string,
  read: (after: string) => Promise<FeedPage<E>>,
  commits: CommitWaiter,
  options: LongPollOptions,
): Promise<FeedPage<E>> {
  const deadline = Date.now() + options.waitMs;
  const fallbackPollMs = options.fallbackPollMs ?? DEFAULT_FALLBACK_POLL_MS;
  let announced = 0;
  let wake: (() => void) | undefined;
  const unsubscribe =
    options.waitMs > 0
      ? commits.onCommit(() => {
          announced++;
          wake?.();
        })
      : undefined;
  // Start by looking again soon: events committed before this call may still be hidden behind an
  // older open transaction, and no notification will come when that one rolls back.
  let recheckMs = RECHECK_FIRST_MS;
  try {
    for (;;) {
      const before = announced;
      const page = await read(cursor);
      const remaining = deadline - Date.now();
      if (page.events.length > 0 || remaining <= 0 || options.signal?.aborted) return page;
      cursor = page.cursor;
      const pauseMs = recheckMs <= RECHECK_LAST_MS ? Math.min(recheckMs, fallbackPollMs) : fallbackPollMs;
      const committed =
        announced !== before ||
        (await waitForCommit(
          (listener) => {
            wake = listener;
            return () => (wake = undefined);
          },
          Math.min(pauseMs, remaining),
          options.signal,
        ));
      recheckMs = committed ? RECHECK_FIRST_MS : Math.min(recheckMs * 2, RECHECK_LAST_MS * 2);
    }
  } finally {
    unsubscribe?.();
  }
}

/** Resolves true when `subscribe`'s listener is called, false when `timeoutMs` passes or `signal` aborts first. */
export function waitForCommit(
  subscribe: (listener: () => void) => () => void,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (committed: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(committed);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = subscribe(() => finish(true));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
