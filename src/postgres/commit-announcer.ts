import type { Pool } from 'pg';

/** Under load, commits share one NOTIFY per this interval; the first commit after a quiet spell goes at once. */
const MIN_INTERVAL_MS = 5;

/**
 * Sends NOTIFY after appends, outside the appending transactions. A NOTIFY inside them would take
 * PostgreSQL's global notify lock at every commit and serialize all writers. Each NOTIFY is itself a
 * small transaction, so they are throttled: at most one in flight, and at most one per interval.
 */
export class CommitAnnouncer {
  private sending = false;
  private pending = false;
  private pause?: NodeJS.Timeout;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly payload: string,
  ) {}

  announce(): void {
    if (this.sending || this.pause) {
      this.pending = true;
      return;
    }
    this.send();
  }

  private send(): void {
    this.sending = true;
    this.pending = false;
    this.pool
      .query('SELECT pg_notify($1, $2)', [this.channel, this.payload])
      .catch(() => undefined) // readers fall back to polling; the appends themselves succeeded
      .finally(() => {
        this.sending = false;
        this.pause = setTimeout(() => {
          this.pause = undefined;
          if (this.pending) this.send();
        }, MIN_INTERVAL_MS);
        this.pause.unref();
      });
  }
}
