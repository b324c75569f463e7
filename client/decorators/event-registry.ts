import { eventTypeRegex } from '../../src/names';
import { declareFieldTypes, type FieldTypes } from '../field-types';
import { RegistrationError, describeClass } from '../registration-error';

/** Turns the JSON of one schema version into the JSON of the next. */
export type Upcaster = (data: Record<string, any>) => Record<string, any>;

export interface DomainEventOptions {
  /** The shape this class has now; events written by it record it. Default 1. */
  schemaVersion?: number;
  /**
   * `{ 1: v1 => v2, 2: v2 => v3, ... }`: one upcaster from every older version to the next.
   * Required for each version below `schemaVersion`, checked at decoration.
   */
  upcasters?: Record<number, Upcaster>;
  /**
   * Classes to rebuild fields as, where TypeScript's metadata cannot tell them: the element class
   * of an array (`{ lines: () => OrderLine }`), or a field declared outside the constructor.
   * Constructor parameter properties typed as a Date or a class need nothing here.
   */
  types?: FieldTypes;
}

export interface EventTypeInfo {
  typeName: string;
  eventClass: new (...args: any[]) => any;
  schemaVersion: number;
  /** Index v holds the upcaster from version v to v + 1. */
  upcasters: readonly (Upcaster | undefined)[];
}

export type EventClass<E = any> = new (...args: any[]) => E;

const byClass = new Map<Function, EventTypeInfo>();
const byTypeName = new Map<string, EventTypeInfo>();

export function registerEventType(eventClass: EventClass, typeName: string, options: DomainEventOptions = {}): void {
  const where = `@DomainEvent('${typeName}') on class ${describeClass(eventClass)}`;
  if (typeof typeName !== 'string' || !eventTypeRegex.test(typeName)) {
    throw new RegistrationError(`${where}: '${typeName}' is not a valid event type name (${eventTypeRegex.source})`);
  }
  const existing = byTypeName.get(typeName);
  if (existing && existing.eventClass !== eventClass) {
    throw new RegistrationError(
      `${where}: event type '${typeName}' is already used by class ${describeClass(existing.eventClass)}`,
    );
  }
  const previousName = byClass.get(eventClass)?.typeName;
  if (previousName !== undefined && previousName !== typeName) {
    throw new RegistrationError(`${where}: the class is already registered as event type '${previousName}'`);
  }
  const schemaVersion = options.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new RegistrationError(`${where}: schemaVersion must be an integer ≥ 1, not ${schemaVersion}`);
  }
  const upcasters: (Upcaster | undefined)[] = [];
  for (const [from, upcaster] of Object.entries(options.upcasters ?? {})) {
    const version = Number(from);
    if (!Number.isInteger(version) || version < 1 || version >= schemaVersion) {
      throw new RegistrationError(
        `${where}: an upcaster from version ${from} makes no sense for schemaVersion ${schemaVersion}`,
      );
    }
    upcasters[version] = upcaster;
  }
  for (let version = 1; version < schemaVersion; version++) {
    if (typeof upcasters[version] !== 'function') {
      throw new RegistrationError(
        `${where}: schemaVersion ${schemaVersion} needs an upcaster from version ${version} to ${version + 1}`,
      );
    }
  }
  declareFieldTypes(eventClass, options.types ?? {}, where);
  const info: EventTypeInfo = { typeName, eventClass, schemaVersion, upcasters };
  byClass.set(eventClass, info);
  byTypeName.set(typeName, info);
}

/** Every registered event class, in registration order. */
export function registeredEventTypes(): EventTypeInfo[] {
  return [...byClass.values()];
}

/** The registration of an event class, or undefined when it has no @DomainEvent. */
export function eventTypeInfoOf(eventClass: Function): EventTypeInfo | undefined {
  return byClass.get(eventClass);
}

/** The stored type name of a @DomainEvent class. */
export function eventTypeOf(eventClass: Function): string {
  const info = byClass.get(eventClass);
  if (!info) throw new RegistrationError(`class ${describeClass(eventClass)} is not an event class: it has no @DomainEvent`);
  return info.typeName;
}

/** The registration for a stored type name, or undefined when no loaded class declares it. */
export function eventTypeInfoFor(typeName: string): EventTypeInfo | undefined {
  return byTypeName.get(typeName);
}

/** The class registered for a stored type name. */
export function eventClassFor(typeName: string): EventClass {
  const info = byTypeName.get(typeName);
  if (!info) throw new RegistrationError(`no class is registered with @DomainEvent('${typeName}')`);
  return info.eventClass;
}
