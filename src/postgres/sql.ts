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

/** True when an error means "the database cannot be reached now", not "the request is wrong". */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.test(e.code) || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(e.message ?? '');
}
