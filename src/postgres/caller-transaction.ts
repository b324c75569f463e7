import type { ClientBase, QueryConfig } from 'pg';
import type { AppendEventsRequest, AppendResult, CreateEntityRequest, LoadedEntity, LoadOptions } from '../model';
import { Row, UNIQUE_VIOLATION, WriteTarget } from './write-target';

/**
 * The store's writes and loads inside a transaction the caller holds (PostgresEventStore.inTransaction):
 * the same requests, answers and errors as the store's own, committed or rolled back by the caller.
 */
export interface TransactionalEventStore {
  create(request: CreateEntityRequest): Promise<AppendResult>;
  append(request: AppendEventsRequest): Promise<AppendResult>;
  /** Sees the transaction's own writes, which no one else sees before it commits. */
  load(entityType: string, entityId: string, options?: LoadOptions): Promise<LoadedEntity>;
}

/** The store a caller's transaction writes into. */
export interface TargetStore {
  /** Its schema, quoted. */
  schema: string;
  storeId: string;
  /** The NOTIFY channel on which its commits are announced. */
  channel: string;
}

const SAVEPOINT = 'eventuate_write';

/** The write in progress on each client: one at a time, since they share the savepoint's name. */
const writing = new WeakMap<ClientBase, Promise<unknown>>();

/**
 * Writes on `client`, inside the transaction the caller opened there, with no BEGIN or COMMIT of
 * their own. Each runs under a savepoint, rolled back when the write is refused or fails: the
 * caller's transaction is then as it was before the write, and usable (without it, a unique
 * violation would abort the caller's transaction, and its COMMIT would silently roll back).
 */
export function callerTransaction(client: ClientBase, store: TargetStore): WriteTarget {
  return {
    reader: client,
    write: (write) => oneAtATime(client, () => writeUnderSavepoint(client, store, write.statement)),
  };
}

async function writeUnderSavepoint(client: ClientBase, store: TargetStore, config: QueryConfig): Promise<Row | undefined> {
  await openSavepoint(client, store);
  let rows: Row[];
  try {
    rows = (await client.query(config)).rows;
  } catch (err) {
    await rollBackToSavepoint(client);
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
    throw err;
  }
  if (rows.length !== 1) {
    // Nothing was written; rolling back drops the announcement queued with the savepoint.
    await rollBackToSavepoint(client);
    return undefined;
  }
  await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  return rows[0];
}

/**
 * One round trip: opens the savepoint, checks that the client's database holds this store (events
 * written into another store's tables would be answered with cursors of this one), and queues the
 * commit announcement, which PostgreSQL sends when the caller's transaction commits and drops when
 * it rolls back. (Inside the writing transaction a NOTIFY takes a global lock at commit, which is
 * why the store's own writes announce afterwards; a caller's transaction has no afterwards we see.)
 * An empty payload: the store's own listener ignores only its own announcements.
 */
async function openSavepoint(client: ClientBase, store: TargetStore): Promise<void> {
  let results: Array<{ rows: Row[] }>;
  try {
    results = (await client.query(
      `SAVEPOINT ${SAVEPOINT}; SELECT store_id FROM ${store.schema}.store_identity; NOTIFY "${store.channel}"`,
    )) as unknown as Array<{ rows: Row[] }>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // 25P01: no transaction block; each write would otherwise commit on its own.
    if (code === '25P01') {
      throw new Error('inTransaction: the client is not inside a transaction: send BEGIN on it before writing', { cause: err });
    }
    if (code === '25P02') {
      throw new Error('inTransaction: the transaction on the client is aborted (an earlier statement failed) and can write nothing: roll it back', {
        cause: err,
      });
    }
    await rollBackToSavepoint(client);
    // 42P01: no such table (or schema) in the client's database.
    if (code === '42P01') {
      throw new Error(
        `inTransaction: the client's database has no event store in schema ${store.schema}: connect the client to the store's database`,
        { cause: err },
      );
    }
    throw err;
  }
  const storeId = results[1].rows[0]?.store_id;
  if (storeId !== store.storeId) {
    await rollBackToSavepoint(client);
    throw new Error(
      `inTransaction: the client's database holds another event store in schema ${store.schema} (${storeId}; this store is ` +
        `${store.storeId}): connect the client to the store's database`,
    );
  }
}

/** Back to before the write, which leaves the caller's transaction as it was. */
async function rollBackToSavepoint(client: ClientBase): Promise<void> {
  await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
}

function oneAtATime<T>(client: ClientBase, run: () => Promise<T>): Promise<T> {
  const result = (writing.get(client) ?? Promise.resolve()).then(run);
  const settled = result.catch(() => undefined);
  writing.set(client, settled);
  return result;
}
