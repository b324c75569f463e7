import type { Pool } from 'pg';

/**
 * Sends NOTIFY after appends, outside the appending transactions. A NOTIFY inside them would take
 * PostgreSQL's global notify lock at every commit and serialize all writers; here at most one
 * notification is in flight, and appends that complete meanwhile share the next one.
 */
export class CommitAnnouncer {
  private sending = false;
  private pending = false;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly payload: string,
  ) {}

  announce(): void {
    if (this.sending) {
      this.pending = true;
      return;
    }
    this.sending = true;
    this.pool
      .query('SELECT pg_notify($1, $2)', [this.channel, this.payload])
      .catch(() => undefined) // readers fall back to polling; the append itself succeeded
      .finally(() => {
        this.sending = false;
        if (this.pending) {
          this.pending = false;
          this.announce();
        }
      });
  }
}
