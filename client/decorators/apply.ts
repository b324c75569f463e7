import 'reflect-metadata';
import { declareApply } from '../metadata/aggregate-registry';
import type { EventClass } from '../metadata/event-registry';

/**
 * Marks a method that changes the aggregate's state for one event class: the class given, or
 * the type of the method's parameter.
 */
export function Apply(eventClass?: EventClass): MethodDecorator {
  return (prototype, methodName, descriptor) => {
    declareApply(prototype, methodName, descriptor, eventClass);
  };
}
