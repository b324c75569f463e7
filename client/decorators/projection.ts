import { declareSubscriber, type EventSubscriberOptions, type SubscriberModel } from './event-subscriber';
import { RegistrationError, describeClass } from '../registration-error';

export interface ProjectionOptions extends Omit<EventSubscriberOptions, 'onFailure'> {
  /**
   * The version of the projection's code and tables. Raise it when a change makes the tables built so
   * far wrong (a new column, a handler that computes differently): the next start then refuses to run
   * on the old tables, or rebuilds them when started with `rebuildOnVersionChange`. Default 1.
   */
  version?: number;
  /**
   * 'park' (default): a failed event is dead-lettered and its entity's later events wait behind it
   * (the view stays exact for every other entity); 'stop': the projection stops at the event. A
   * projection cannot go on past an event of an entity ('dead-letter'): its rows for that entity
   * would be wrong with nothing to show it.
   */
  onFailure?: 'park' | 'stop';
  /** Most events applied in one transaction, when the source delivers that many together. Default 100. */
  batchSize?: number;
}

export interface ProjectionModel {
  projectionName: string;
  version: number;
  batchSize: number;
  /** The projection as the subscriber it also is (its handlers, entity types, failure policy). */
  subscriber: SubscriberModel;
}

/** A projection's name is also a PostgreSQL identifier (its schema by default) and a subscriber id. */
const PROJECTION_NAME = /^[a-z_][a-z0-9_]{0,48}$/;

const projections = new Map<Function, ProjectionModel>();

/**
 * Marks a class that builds a read model in PostgreSQL: its @EventHandlerMethod methods get a
 * ProjectionContext whose `db` is a transaction that also records what the projection has applied,
 * so each event changes the view exactly once. Its `createTables(db)` makes the tables. The name
 * (lowercase letters, digits, underscores) is the projection's schema, subscriber id and consumer
 * group: keep it stable.
 */
export function Projection(projectionName: string, options: ProjectionOptions = {}): ClassDecorator {
  return (projectionClass) => {
    const where = `@Projection('${projectionName}') on class ${describeClass(projectionClass)}`;
    if (typeof projectionName !== 'string' || !PROJECTION_NAME.test(projectionName)) {
      throw new RegistrationError(`${where}: the name must match ${PROJECTION_NAME.source} (it names the projection's PostgreSQL schema)`);
    }
    const version = options.version ?? 1;
    if (!Number.isInteger(version) || version < 1) throw new RegistrationError(`${where}: version must be a positive integer`);
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new RegistrationError(`${where}: batchSize must be an integer from 1 to 10000`);
    if (options.onFailure !== undefined && !['park', 'stop'].includes(options.onFailure)) {
      throw new RegistrationError(
        `${where}: onFailure must be 'park' or 'stop', not ${JSON.stringify(options.onFailure)}: a projection that went on past a failed event of an entity would hold wrong rows for it with nothing to show it`,
      );
    }
    if (typeof (projectionClass.prototype as { createTables?: unknown }).createTables !== 'function') {
      throw new RegistrationError(`${where}: the class needs a createTables(db) method that creates its tables (unqualified names: they go in the projection's schema)`);
    }
    const subscriber = declareSubscriber('@Projection', projectionName, options, projectionClass);
    projections.set(projectionClass, { projectionName, version, batchSize, subscriber });
  };
}

/** The model of a projection instance's class. */
export function projectionModelOf(projection: object): ProjectionModel {
  const model = projections.get(projection.constructor);
  if (!model) throw new RegistrationError(`${describeClass(projection.constructor)} is not a projection: it has no @Projection`);
  return model;
}

export function isProjection(instance: object): boolean {
  return projections.has(instance.constructor);
}
