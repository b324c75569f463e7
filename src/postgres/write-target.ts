import type { QueryConfig, QueryResult } from 'pg';
import type { GroupWriteMember } from './group-write-query';

export type Row = Record<string, any>;

/** A pool or one connection: what runs the store's statements. */
export interface Queryable {
  query(config: QueryConfig): Promise<QueryResult<Row>>;
}

/** A create or append ready to run: as a statement of its own, or as a member of a group. */
export interface PreparedWrite {
  statement: QueryConfig;
  member: GroupWriteMember;
  /** Its events' ids, lower case. */
  eventIds: string[];
}

/** Where a create or append runs: on the store's committer connections (group-committer.ts), or in a transaction the caller holds. */
export interface WriteTarget {
  /**
   * Runs the write: its one row when it wrote; undefined when it wrote nothing because PostgreSQL
   * refused it (a moved version, a taken id, a unique violation), for the diagnosis to explain.
   * Any other failure is thrown as the driver's (or as WriteOutcomeUnknownError).
   */
  write(write: PreparedWrite): Promise<Row | undefined>;
  /** Where the diagnosis of a refusal reads: inside the caller's transaction it must see that transaction's own writes. */
  readonly reader: Queryable;
}

/** SQLSTATE unique_violation: a concurrent writer (or an earlier write of the same transaction) won. */
export const UNIQUE_VIOLATION = '23505';
