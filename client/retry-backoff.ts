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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
