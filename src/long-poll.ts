import type { FeedPage } from './model';

export interface CommitWaiter {
  /** Resolves true on a commit, false on timeout or abort. */
  waitForCommit(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

/** Without any notification, look again this often: a safety net, not the mechanism. */
const FALLBACK_POLL_MS = 1000;
/** After a commit whose events are not readable yet (an older transaction is still open), look again soon, backing off. */
const RECHECK_MS = 20;

/**
 * Reads the feed until it returns events or `waitMs` passes, sleeping between reads until a commit
 * is announced. Shared by every store that implements `readFeed`.
 */
export async function longPoll(
  cursor: string,
  read: (after: string) => Promise<FeedPage>,
  commits: CommitWaiter,
  options: { waitMs: number; signal?: AbortSignal },
): Promise<FeedPage> {
  const deadline = Date.now() + options.waitMs;
  // Start by looking again soon: events committed before this call may still be hidden behind an
  // older open transaction, and no notification will come when that one rolls back.
  let recheckMs = RECHECK_MS;
  for (;;) {
    const page = await read(cursor);
    const remaining = deadline - Date.now();
    if (page.events.length > 0 || remaining <= 0 || options.signal?.aborted) return page;
    cursor = page.cursor;
    const committed = await commits.waitForCommit(Math.min(recheckMs || FALLBACK_POLL_MS, remaining), options.signal);
    recheckMs = committed ? RECHECK_MS : recheckMs && Math.min(recheckMs * 2, FALLBACK_POLL_MS);
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
