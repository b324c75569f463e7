import 'reflect-metadata';
import { declareApply, declareProcess, registerAggregate, type AggregateOptions } from './aggregate-registry';
import type { EventClass } from './event-registry';

/**
 * Marks an aggregate class (it needs a constructor without arguments) and checks its @Apply and
 * @Process methods now, so mistakes surface when the class is loaded.
 */
export function Aggregate(entityType: string, options?: AggregateOptions): ClassDecorator {
  return (aggregateClass) => {
    registerAggregate(aggregateClass as unknown as new () => unknown, entityType, options);
  };
}

/**
 * Marks a method that changes the aggregate's state for one event class: the class given, or
 * the type of the method's parameter.
 */
export function Apply(eventClass?: EventClass): MethodDecorator {
  return (prototype, methodName, descriptor) => {
    declareApply(prototype, methodName, descriptor, eventClass);
  };
}

/**
 * Marks a method that decides on one command class (the class given, or the type of the
 * method's parameter) and returns the new events: an array, possibly empty, or one event.
 */
export function Process(commandClass?: Function): MethodDecorator {
  return (prototype, methodName, descriptor) => {
    declareProcess(prototype, methodName, descriptor, commandClass);
  };
}
