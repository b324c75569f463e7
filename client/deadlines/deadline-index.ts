import type { PoolClient } from 'pg';
import { EventHandlerMethod } from '../decorators/event-subscriber';
import { Projection } from '../decorators/projection';
import { RegistrationError } from '../registration-error';
import type { ProjectionContext } from '../projections/projection-context';
import type { ProjectionClass } from '../projections/postgres-projection';
import { DeadlineCancelled, DeadlineFired, DeadlineScheduled } from './deadline-events';

export const DEADLINE_TABLE = 'deadlines';

export type DeadlineStatus = 'scheduled' | 'fired' | 'cancelled';

/**
 * The due-time index of deadlines: a projection of the owners' DeadlineScheduled / Fired /
 * Cancelled events, so it is exact (each event applied once) and can always be rebuilt from the
 * store, where the deadlines themselves live. `status` is what the owner's stream says; `settled_at`
 * is set by a scheduler that fired the deadline (or found it fired or cancelled) before this index
 * read the record that says so; `lease_until` keeps other schedulers off a deadline being fired.
 * One class per scheduler configuration: its entity types are the streams it reads.
 */
export function deadlineIndexClass(projectionName: string, entityTypes: string[]): new () => ProjectionClass {
  const key = entityTypes.join(',');
  const made = indexClasses.get(projectionName);
  if (made) {
    // A subscriber id names one class in a process; two sets of entity types under one name would share one checkpoint.
    if (made.key !== key) throw new RegistrationError(`deadline index '${projectionName}' is already used for entity types ${made.key}, not ${key}: give this scheduler another schema`);
    return made.cls;
  }
  @Projection(projectionName, { entityTypes })
  class DeadlineIndex {
    async createTables(db: PoolClient): Promise<void> {
      await db.query(`
        CREATE TABLE ${DEADLINE_TABLE} (
          deadline_id text PRIMARY KEY,
          entity_type text NOT NULL,
          entity_id text NOT NULL,
          name text NOT NULL,
          due_at timestamptz NOT NULL,
          payload jsonb NOT NULL,
          status text NOT NULL DEFAULT 'scheduled',
          settled_at timestamptz,
          lease_until timestamptz,
          attempts integer NOT NULL DEFAULT 0,
          last_error text
        );
        -- What the schedulers poll: due, not yet fired.
        CREATE INDEX ${DEADLINE_TABLE}_due ON ${DEADLINE_TABLE} (due_at) WHERE status = 'scheduled' AND settled_at IS NULL`);
    }

    @EventHandlerMethod(DeadlineScheduled)
    async scheduled({ db, event, entityType, entityId }: ProjectionContext<DeadlineScheduled>): Promise<void> {
      const dueAt = new Date(event.dueAt);
      if (Number.isNaN(dueAt.getTime())) throw new TypeError(`deadline ${event.deadlineId} of ${entityType}/${entityId}: dueAt ${JSON.stringify(event.dueAt)} is not a time`);
      const { rows } = await db.query(
        `INSERT INTO ${DEADLINE_TABLE} (deadline_id, entity_type, entity_id, name, due_at, payload) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (deadline_id) DO NOTHING RETURNING 1`,
        [event.deadlineId, entityType, entityId, event.name, dueAt, event.payload],
      );
      if (rows.length === 0) {
        const { rows: other } = await db.query(`SELECT entity_type, entity_id FROM ${DEADLINE_TABLE} WHERE deadline_id = $1`, [event.deadlineId]);
        throw new Error(`deadline id ${event.deadlineId} is scheduled twice: on ${other[0]?.entity_type}/${other[0]?.entity_id} and on ${entityType}/${entityId}; give each deadline an id of its own`);
      }
    }

    @EventHandlerMethod(DeadlineFired)
    async fired(context: ProjectionContext<DeadlineFired>): Promise<void> {
      await settle(context, context.event.deadlineId, 'fired');
    }

    @EventHandlerMethod(DeadlineCancelled)
    async cancelled(context: ProjectionContext<DeadlineCancelled>): Promise<void> {
      await settle(context, context.event.deadlineId, 'cancelled');
    }
  }
  indexClasses.set(projectionName, { key, cls: DeadlineIndex });
  return DeadlineIndex;
}

const indexClasses = new Map<string, { key: string; cls: new () => ProjectionClass }>();

async function settle({ db, entityType, entityId }: ProjectionContext, deadlineId: string, status: DeadlineStatus): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE ${DEADLINE_TABLE} SET status = $4, lease_until = NULL WHERE deadline_id = $1 AND entity_type = $2 AND entity_id = $3`,
    [deadlineId, entityType, entityId, status],
  );
  // The owner's stream says the deadline was scheduled before it says anything else of it.
  if (rowCount === 0) throw new Error(`${entityType}/${entityId} records deadline ${deadlineId} as ${status}, but no DeadlineScheduled for it on that entity came before`);
}
