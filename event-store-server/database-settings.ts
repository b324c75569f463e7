import type { ClientConfig } from 'pg';

/** How long the server waits on PostgreSQL; every connection it opens (store, LISTEN, relay lock) gets them. */
export interface DatabaseTimeouts {
  /** Connecting, and waiting for a free connection of a full pool. */
  connectTimeoutMs: number;
  /** PostgreSQL cancels a statement running longer (statement_timeout); the connection stays usable. */
  statementTimeoutMs: number;
  /**
   * The client stops waiting for an answer and drops the connection: the bound when PostgreSQL cannot
   * cancel anything itself (frozen, or cut off by the network). Above statementTimeoutMs.
   */
  queryTimeoutMs: number;
  /** Idle time before TCP keepalive probes start, so a connection to a vanished host is noticed. */
  keepAliveMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connectTimeoutMs: 2000,
  statementTimeoutMs: 5000,
  queryTimeoutMs: 6000,
  keepAliveMs: 10_000,
};

export type ConnectionSettings = Pick<
  ClientConfig,
  'connectionTimeoutMillis' | 'statement_timeout' | 'query_timeout' | 'keepAlive' | 'keepAliveInitialDelayMillis'
>;

/** node-postgres settings from the timeouts (0 turns one off, as in node-postgres). */
export function connectionSettings(timeouts: DatabaseTimeouts): ConnectionSettings {
  return {
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    query_timeout: timeouts.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: timeouts.keepAliveMs,
  };
}

/**
 * For migrations: they may legitimately run for minutes (an index on a large table), so only the
 * connect timeout and keepalive apply.
 */
export function migrationConnectionSettings(timeouts: DatabaseTimeouts): ConnectionSettings {
  return { connectionTimeoutMillis: timeouts.connectTimeoutMs, keepAlive: true, keepAliveInitialDelayMillis: timeouts.keepAliveMs };
}
