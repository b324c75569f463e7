import { plainToInstance } from 'class-transformer';
import type { SnapshotToSave, StoredEvent, StoredSnapshot } from '../src/model';
import { EventDeserializationError } from './event-deserialization-error';
import { schemaVersionOf } from './event-metadata';
import type { AggregateModel } from './decorators/aggregate-registry';
import { eventTypeInfoFor, eventTypeInfoOf } from './decorators/event-registry';
import { RegistrationError, describeClass } from './registration-error';
import { roundTripDifference } from './round-trip-check';
import { fromJsonObject, toJsonObject } from './serialization';
import { upcastWith } from './upcasting';

/** Runs the command's @Process method on `entity`; the new events, in order (not yet applied). */
export function processCommand<A>(model: AggregateModel<A>, entity: A, command: object): object[] {
  const commandClass = command?.constructor;
  const handler = commandClass === undefined ? undefined : model.processHandlers.get(commandClass);
  if (!handler) {
    throw new RegistrationError(
      `class ${describeClass(model.aggregateClass)} has no @Process method for command ${describeClass(commandClass)}` +
        (commandClass === Object ? ' (pass an instance of the command class, not a plain object)' : ''),
    );
  }
  const result = handler.method.call(entity, command);
  const where = `${describeClass(model.aggregateClass)}.${handler.methodName} (@Process ${describeClass(handler.commandClass)})`;
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw new RegistrationError(`${where} returned a Promise: @Process methods decide synchronously from the aggregate's state`);
  }
  const events = result === undefined || result === null ? [] : Array.isArray(result) ? result : [result];
  for (const event of events) {
    if (event === null || typeof event !== 'object' || !eventTypeInfoOf(event.constructor)) {
      const what =
        event === null || typeof event !== 'object'
          ? String(event)
          : event.constructor === Object
            ? 'a plain object'
            : `an instance of ${describeClass(event.constructor)}`;
      throw new RegistrationError(`${where} returned ${what}, which is not an event: event classes need @DomainEvent`);
    }
  }
  return events;
}

/** Applies events the aggregate just produced (class instances). */
export function applyNewEvents<A>(model: AggregateModel<A>, entity: A, events: readonly object[]): void {
  for (const event of events) {
    const handler = model.applyHandlers.get(eventTypeInfoOf(event.constructor)!.typeName);
    // An event without an @Apply method leaves the state as it is.
    handler?.call(entity, event);
  }
}

/** Applies stored events: only the types the aggregate handles are deserialized (upcast first). */
export function applyStoredEvents<A>(model: AggregateModel<A>, entity: A, events: readonly StoredEvent[]): void {
  for (const stored of events) {
    const handler = model.applyHandlers.get(stored.eventType);
    if (!handler) continue;
    const info = eventTypeInfoFor(stored.eventType);
    if (!info) throw new EventDeserializationError(stored.eventType, `no class is registered with @DomainEvent('${stored.eventType}')`);
    const data = upcastWith(info, stored.eventData, schemaVersionOf(stored.metadata));
    handler.call(entity, plainToInstance(info.eventClass, data));
  }
}

/**
 * The default snapshot: the aggregate's fields as JSON. Snapshots are rare, so each is checked to
 * restore the same state; a field that would not (a Date without @Type, say) fails here, not in a
 * later replay that silently differs from the events.
 */
export function snapshotOf<A>(model: AggregateModel<A>, entity: A): SnapshotToSave {
  const snapshotData = toJsonObject(entity as object);
  const difference = roundTripDifference(entity, fromJsonObject(model.aggregateClass, snapshotData));
  if (difference !== undefined) {
    const className = describeClass(model.aggregateClass);
    throw new RegistrationError(`a snapshot of ${className} would not restore the same state: ${className}${difference}`);
  }
  return { snapshotType: model.snapshotType, snapshotData };
}

/** The state a snapshot holds, or undefined when it was written for another snapshotVersion. */
export function restoreSnapshot<A>(model: AggregateModel<A>, snapshot: StoredSnapshot): A | undefined {
  if (snapshot.snapshotType !== model.snapshotType) return undefined;
  return fromJsonObject(model.aggregateClass, snapshot.snapshotData);
}
