export interface BackoffOptions {
  /** The delay cap of the first retry; doubles per attempt. */
  baseMs: number;
  /** The largest delay cap. */
  maxMs: number;
}

/**
 * "Full jitter": a uniform delay below an exponentially growing cap, so writers that collided
 * once do not collide again in lockstep.
 */
export function jitteredBackoffMs(failedAttempts: number, { baseMs, maxMs }: BackoffOptions): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.random() * cap;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
