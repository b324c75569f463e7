import 'reflect-metadata';
import { registerAggregate, type AggregateOptions } from '../metadata/aggregate-registry';

/**
 * Marks an aggregate class (it needs a constructor without arguments) and checks its @Apply and
 * @Process methods now, so mistakes surface when the class is loaded.
 */
export function Aggregate(entityType: string, options?: AggregateOptions): ClassDecorator {
  return (aggregateClass) => {
    registerAggregate(aggregateClass as unknown as new () => unknown, entityType, options);
  };
}
