import 'reflect-metadata';
import { Type } from 'class-transformer';
import { RegistrationError, describeClass } from './registration-error';

/** The part of class-transformer's metadata storage we read: whether a field already has a @Type. */
interface TypeMetadataStorage {
  findTypeMetadata(target: Function, propertyName: string): unknown;
}
// class-transformer exposes its storage only by this path; reading it keeps an explicit @Type in charge.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: TypeMetadataStorage };

/** What a field's value must be rebuilt as; a thunk, so classes declared later in a file still resolve. */
export type FieldTypes = Record<string, () => Function>;

/** Types JSON already gives back as they are, or that a field type cannot name more precisely. */
const AS_JSON_GIVES_THEM = new Set<unknown>([String, Number, Boolean, Object, Array, Function, Symbol, BigInt, Promise, Map, Set]);

const declared = new WeakMap<Function, FieldTypes>();
const prepared = new WeakSet<Function>();

/** Records the field types a decorator was given (`@DomainEvent`/`@ValueObject` `types`), checked now. */
export function declareFieldTypes(cls: Function, types: FieldTypes, where: string): void {
  for (const [field, type] of Object.entries(types)) {
    if (typeof type !== 'function') {
      throw new RegistrationError(`${where}: types.${field} must be a function returning the class, e.g. { ${field}: () => SomeClass }`);
    }
  }
  declared.set(cls, types);
}

/**
 * Makes `cls` revive its fields as the types they were written as, once per class:
 * - the `types` given to @DomainEvent or @ValueObject (the only way to name an array's element class);
 * - constructor parameter properties (`constructor(public at: Date)`) whose declared type is a
 *   Date or a class: TypeScript records those types in `design:paramtypes`, and the parameter's
 *   field is found by constructing the class once with a distinct placeholder object per parameter.
 * A field with its own class-transformer `@Type` keeps it. What this cannot see (an array's
 * elements, a field declared without a decorator) the round-trip check refuses at write time.
 */
export function prepareFieldTypes(cls: Function): void {
  if (prepared.has(cls)) return;
  prepared.add(cls); // first, so that classes holding each other end
  try {
    revive(cls);
  } catch (error) {
    prepared.delete(cls);
    throw error;
  }
}

function revive(cls: Function): void {
  const explicit = declared.get(cls) ?? {};
  for (const [field, type] of Object.entries(explicit)) {
    Type(type)(cls.prototype, field);
    // Called only now, at the first read, when every class of the program is defined.
    const valueClass = type();
    if (typeof valueClass !== 'function') {
      throw new RegistrationError(`types.${field} of class ${describeClass(cls)} returned ${String(valueClass)}, not a class (a circular import?)`);
    }
    prepareFieldTypes(valueClass);
  }
  const parameterTypes: unknown[] | undefined = Reflect.getMetadata('design:paramtypes', cls);
  if (!parameterTypes?.length) return;
  const fields = parameterPropertyNames(cls, parameterTypes.length);
  parameterTypes.forEach((parameterType, index) => {
    const field = fields[index];
    if (field === undefined || field in explicit || typeof parameterType !== 'function' || AS_JSON_GIVES_THEM.has(parameterType)) return;
    if (defaultMetadataStorage.findTypeMetadata(cls, field) !== undefined) return;
    Type(() => parameterType)(cls.prototype, field);
    prepareFieldTypes(parameterType);
  });
}

/**
 * The field each constructor parameter is stored in, by index (undefined where it is none or
 * cannot be told). A constructor that throws on placeholders gives none; the round-trip check
 * then names the field that needs a type.
 */
function parameterPropertyNames(cls: Function, count: number): (string | undefined)[] {
  const placeholders = Array.from({ length: count }, () => ({}));
  let instance: object;
  try {
    instance = Reflect.construct(cls, placeholders) as object;
  } catch {
    return [];
  }
  const names: (string | undefined)[] = new Array(count).fill(undefined);
  for (const [key, value] of Object.entries(instance)) {
    const index = placeholders.indexOf(value as object);
    if (index >= 0 && names[index] === undefined) names[index] = key;
  }
  return names;
}
