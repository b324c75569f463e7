import 'reflect-metadata';
import { declareProcess } from '../metadata/aggregate-registry';

/**
 * Marks a method that decides on one command class (the class given, or the type of the
 * method's parameter) and returns the new events: an array, possibly empty, or one event.
 */
export function Process(commandClass?: Function): MethodDecorator {
  return (prototype, methodName, descriptor) => {
    declareProcess(prototype, methodName, descriptor, commandClass);
  };
}
