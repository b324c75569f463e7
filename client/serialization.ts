import { instanceToPlain, plainToInstance } from 'class-transformer';
import type { JsonObject, StoredEvent } from '../src/model';
import { EventDeserializationError } from './event-deserialization-error';
import { schemaVersionOf } from './event-metadata';
import { eventTypeInfoFor, eventTypeInfoOf, registeredEventTypes } from './decorators/event-registry';
import { prepareFieldTypes } from './field-types';
import { RegistrationError, describeClass } from './registration-error';
import { invalidDatePath, roundTripDifference } from './round-trip-check';
import { upcastWith } from './upcasting';

/**
 * An instance (event, command, snapshot of an aggregate) as the JSON the store keeps.
 * class-transformer leaves Dates as Date objects; the JSON round trip makes the result exactly
 * what a store returns later (ISO strings, no undefined members), whichever store it is.
 */
export function toJsonObject(instance: object): JsonObject {
  return JSON.parse(JSON.stringify(instanceToPlain(instance))) as JsonObject;
}

/**
 * JSON back into a real instance of `cls`: nested classes and Dates through class-transformer's
 * `@Type`, which constructor parameter properties and declared `types` get without writing it (field-types.ts).
 */
export function fromJsonObject<T>(cls: new (...args: any[]) => T, data: JsonObject): T {
  prepareEventClasses();
  prepareFieldTypes(cls);
  let instance: T;
  try {
    instance = plainToInstance(cls, data) as T;
  } catch (error) {
    throw new RegistrationError(
      `cannot rebuild an instance of ${describeClass(cls)} from JSON: its constructor threw when called without arguments, ` +
        `as class-transformer does before it sets the fields (${error instanceof Error ? error.message : String(error)}); ` +
        'let the constructor accept missing arguments',
    );
  }
  const invalidDate = invalidDatePath(instance);
  if (invalidDate !== undefined) {
    throw new RegistrationError(`the JSON of ${describeClass(cls)} holds no valid date at ${describeClass(cls)}${invalidDate}, where the class has a Date`);
  }
  return instance;
}

let preparedEventClasses = 0;

/**
 * Every event class gets its field types before any JSON is read, so an event nested in another
 * value (a snapshot that holds one) revives the same in every process, whatever was read first.
 */
function prepareEventClasses(): void {
  const registered = registeredEventTypes();
  if (registered.length === preparedEventClasses) return;
  for (const info of registered) prepareFieldTypes(info.eventClass);
  preparedEventClasses = registered.length;
}

export interface SerializedEvent {
  eventType: string;
  eventData: JsonObject;
  /** The schema version of the class that wrote it; goes into the event's metadata. */
  schemaVersion: number;
}

export function serializeEvent(event: object): SerializedEvent {
  const info = event === null || typeof event !== 'object' ? undefined : eventTypeInfoOf(event.constructor);
  if (!info) {
    const what = event === null || typeof event !== 'object' ? String(event) : `an instance of ${describeClass(event.constructor)}`;
    throw new RegistrationError(`cannot serialize ${what} as an event: its class has no @DomainEvent`);
  }
  return { eventType: info.typeName, eventData: toJsonObject(event), schemaVersion: info.schemaVersion };
}

/**
 * Stored JSON of `typeName` into an instance of its current class, upcast first when it was
 * written under an older schema version. The one function every reader of events uses.
 */
export function deserializeEvent(typeName: string, data: JsonObject, schemaVersion = 1): object {
  const info = eventTypeInfoFor(typeName);
  if (!info) throw new EventDeserializationError(typeName, `no class is registered with @DomainEvent('${typeName}')`);
  const upcast = upcastWith(info, data, schemaVersion);
  try {
    return fromJsonObject(info.eventClass, upcast) as object;
  } catch (error) {
    throw new EventDeserializationError(typeName, `event '${typeName}': ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Refuses an event whose JSON would not read back as the same event (a Date without a type, an
 * array of value objects, NaN, a Map), naming the field and the fix, before anything is written:
 * such an event would replay differently from how it was decided, silently, for ever.
 * Checked for every event, not once per shape, because some losses depend on values (NaN, -0).
 */
export function requireRoundTrip(event: object, serialized: SerializedEvent = serializeEvent(event)): void {
  const className = describeClass(event.constructor);
  let restored: object;
  try {
    restored = deserializeEvent(serialized.eventType, serialized.eventData, serialized.schemaVersion);
  } catch (error) {
    throw new RegistrationError(`event ${className} would not read back: ${error instanceof Error ? error.message : String(error)}`);
  }
  const difference = roundTripDifference(event, restored);
  if (difference === undefined) return;
  // A field of the event itself (or an element of it) can also be typed in @DomainEvent, which is
  // the only place a constructor parameter property can be typed.
  const topField = /^\.([A-Za-z_$][\w$]*)(\[\d+\])?:/.exec(difference)?.[1];
  const typeHint = /add @Type\(\(\) => ([^)]+)\)/.exec(difference)?.[1];
  const alternative =
    typeHint === undefined
      ? ''
      : topField !== undefined
        ? ` on a declared field, or name it in the event's decorator: @DomainEvent('${serialized.eventType}', { types: { ${topField}: () => ${typeHint} } })`
        : ' on a declared field, or mark the class that holds the field @ValueObject() (constructor parameter properties then revive by their types)';
  throw new RegistrationError(`event ${className} would not read back as written: ${className}${difference}${alternative}`);
}

/** A stored event's data as an instance, its schema version read from its metadata. */
export function deserializeStoredEvent(stored: Pick<StoredEvent, 'eventType' | 'eventData' | 'metadata'>): object {
  return deserializeEvent(stored.eventType, stored.eventData, schemaVersionOf(stored.metadata));
}
