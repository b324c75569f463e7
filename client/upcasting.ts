import { EventDeserializationError } from './event-deserialization-error';
import { eventTypeInfoFor, type EventTypeInfo } from './decorators/event-registry';

/**
 * Brings stored JSON of `typeName`, written under `storedSchemaVersion`, to the shape of the
 * current class by running the upcasters declared in its @DomainEvent in order.
 */
export function upcastEventData(
  typeName: string,
  data: Record<string, any>,
  storedSchemaVersion: number,
): Record<string, any> {
  const info = eventTypeInfoFor(typeName);
  if (!info) throw new EventDeserializationError(typeName, `no class is registered with @DomainEvent('${typeName}')`);
  return upcastWith(info, data, storedSchemaVersion);
}

export function upcastWith(info: EventTypeInfo, data: Record<string, any>, storedSchemaVersion: number): Record<string, any> {
  if (storedSchemaVersion > info.schemaVersion) {
    throw new EventDeserializationError(
      info.typeName,
      `event '${info.typeName}' was stored under schema version ${storedSchemaVersion}, newer than ` +
        `class ${info.eventClass.name}'s schemaVersion ${info.schemaVersion}: deploy the newer event class`,
    );
  }
  let upcast = data;
  for (let version = storedSchemaVersion; version < info.schemaVersion; version++) {
    upcast = info.upcasters[version]!(upcast);
  }
  return upcast;
}
