import 'reflect-metadata';
import { registerEventType, type DomainEventOptions } from './event-registry';

/**
 * Marks an event class and fixes its stored type name, so the name never depends on a class
 * name a minifier may change.
 */
export function DomainEvent(typeName: string, options?: DomainEventOptions): ClassDecorator {
  return (eventClass) => {
    registerEventType(eventClass as unknown as new (...args: any[]) => any, typeName, options);
  };
}
