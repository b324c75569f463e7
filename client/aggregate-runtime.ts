import type { SnapshotToSave, StoredEvent, StoredSnapshot } from '../src/model';
import { EventReplayError } from './event-deserialization-error';
import type { AggregateModel } from './decorators/aggregate-registry';
import { eventTypeInfoFor, eventTypeInfoOf } from './decorators/event-registry';
import { RegistrationError, describeClass } from './registration-error';
import { roundTripDifference } from './round-trip-check';
import { deserializeStoredEvent, fromJsonObject, toJsonObject } from './serialization';
import { PARTICIPANT_RECORD_TYPES } from './sagas/participant-record-types';
import { DEADLINE_RECORD_TYPES } from './deadlines/deadline-record-types';

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
    const { typeName } = eventTypeInfoOf(event.constructor)!;
    if (!model.applyHandlers.has(typeName) && !model.ignoredEventTypes.has(typeName) && !DEADLINE_RECORD_TYPES.has(typeName)) {
      const aggregateName = describeClass(model.aggregateClass);
      throw new RegistrationError(
        `${where} returned event ${describeClass(event.constructor)} ('${typeName}'), which ${aggregateName} has no @Apply method for: ` +
          `add one (an empty one if the event changes no state), or list '${typeName}' in @Aggregate('${model.entityType}', { ignoredEventTypes })`,
      );
    }
  }
  return events;
}

/** Applies events the aggregate just produced (class instances; processCommand checked each has an @Apply or is ignored). */
export function applyNewEvents<A>(model: AggregateModel<A>, entity: A, events: readonly object[]): void {
  for (const event of events) {
    model.applyHandlers.get(eventTypeInfoOf(event.constructor)!.typeName)?.call(entity, event);
  }
}

/**
 * Applies stored events (upcast and deserialized first). A type the aggregate neither @Applies
 * nor declares in ignoredEventTypes stops the replay (but a saga participant's own records, a failure
 * reply or a tombstone, change no state and are passed over, as are deadline records it has no @Apply for): skipping it would rebuild a state the
 * history does not say, and nobody could tell.
 */
export function applyStoredEvents<A>(model: AggregateModel<A>, entity: A, events: readonly StoredEvent[]): void {
  for (const stored of events) {
    if (model.ignoredEventTypes.has(stored.eventType) || PARTICIPANT_RECORD_TYPES.has(stored.eventType)) continue;
    const handler = model.applyHandlers.get(stored.eventType);
    if (!handler && DEADLINE_RECORD_TYPES.has(stored.eventType)) continue;
    if (!handler) throw replayError(model, stored, unappliedReason(model, stored.eventType));
    let event: object;
    try {
      event = deserializeStoredEvent(stored);
    } catch (error) {
      throw replayError(model, stored, error instanceof Error ? error.message : String(error));
    }
    handler.call(entity, event);
  }
}

function unappliedReason(model: AggregateModel, eventType: string): string {
  const aggregateName = describeClass(model.aggregateClass);
  const ignore = `list it in @Aggregate('${model.entityType}', { ignoredEventTypes: ['${eventType}'] }) if ${aggregateName} means to pass over it`;
  return eventTypeInfoFor(eventType) === undefined
    ? `stored event type '${eventType}' has no @DomainEvent class in this process (renamed or removed?): ` +
        `declare @DomainEvent('${eventType}') on its class with an @Apply in ${aggregateName}, or ${ignore}`
    : `${aggregateName} has no @Apply method for event type '${eventType}': add one, or ${ignore}`;
}

function replayError(model: AggregateModel, stored: StoredEvent, reason: string): EventReplayError {
  return new EventReplayError(model.entityType, stored.entityId, stored.entityVersion, stored.eventType, reason);
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
