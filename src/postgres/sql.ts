import { ValidationError } from '../errors';

// 46 characters at most: the NOTIFY channel `eventuate_events_<schema>` must fit in 63.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,45}$/;

/** Quotes a schema name after checking it, so it can be put into SQL text. */
export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new ValidationError(`not a valid schema name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Quotes any identifier (a table found in the catalog), doubling its quotes. */
export function quoteAnyIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQLSTATE classes and codes of a database that is away or going away. */
const UNAVAILABLE_SQLSTATES = /^(08|53|57P0[1-4])/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * node-postgres's own timeouts: query_timeout ("Query read timeout"), connectionTimeoutMillis while
 * connecting ("...due to connection timeout") or while waiting for a pooled connection ("timeout
 * exceeded when trying to connect"); and PostgreSQL's statement_timeout (57014, which a
 * pg_cancel_backend also raises: either way the statement did not finish and may be retried).
 */
const TIMEOUT_MESSAGES = /Query read timeout|connection timeout|timeout exceeded when trying to connect/i;

/** True when the database did not answer within one of the configured timeouts. */
export function isTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  return e.code === '57014' || TIMEOUT_MESSAGES.test(e.message ?? '');
}

/** True when an error means "the database cannot be reached now", not "the request is wrong". */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.test(e.code) || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
  return isTimeout(err) || /Connection terminated|Client has encountered a connection error|terminating connection/i.test(e.message ?? '');
}
