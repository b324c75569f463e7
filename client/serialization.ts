import { instanceToPlain, plainToInstance } from 'class-transformer';
import type { JsonObject, StoredEvent } from '../src/model';
import { EventDeserializationError } from './event-deserialization-error';
import { schemaVersionOf } from './event-metadata';
import { eventTypeInfoFor, eventTypeInfoOf } from './decorators/event-registry';
import { RegistrationError, describeClass } from './registration-error';
import { upcastWith } from './upcasting';

/**
 * An instance (event, command, snapshot of an aggregate) as the JSON the store keeps.
 * class-transformer leaves Dates as Date objects; the JSON round trip makes the result exactly
 * what a store returns later (ISO strings, no undefined members), whichever store it is.
 */
export function toJsonObject(instance: object): JsonObject {
  return JSON.parse(JSON.stringify(instanceToPlain(instance))) as JsonObject;
}

/** JSON back into a real instance of `cls` (nested classes and Dates through class-transformer's `@Type`). */
export function fromJsonObject<T>(cls: new (...args: any[]) => T, data: JsonObject): T {
  return plainToInstance(cls, data) as T;
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
  return plainToInstance(info.eventClass, upcastWith(info, data, schemaVersion)) as object;
}

/** A stored event's data as an instance, its schema version read from its metadata. */
export function deserializeStoredEvent(stored: Pick<StoredEvent, 'eventType' | 'eventData' | 'metadata'>): object {
  return deserializeEvent(stored.eventType, stored.eventData, schemaVersionOf(stored.metadata));
}
