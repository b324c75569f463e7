import type { PoolClient } from 'pg';
import { DeliveredEvent } from '../subscriptions/delivered-event';
import type { StoredEvent } from '../../src/model';

/**
 * What a projection's handler gets: the event, and `db`, a PostgreSQL client inside the transaction
 * that also records the event as applied. Unqualified table names resolve in the projection's own
 * schema (the copy being built, during a rebuild). The view change commits with that record or not
 * at all, so a redelivered event changes nothing, with no bookkeeping in the handler. Do not commit
 * or roll back on it.
 */
export class ProjectionContext<E = object> extends DeliveredEvent<E> {
  constructor(
    event: E,
    stored: StoredEvent,
    readonly db: PoolClient,
  ) {
    super(event, stored);
  }
}
