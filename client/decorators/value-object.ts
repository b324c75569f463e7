import 'reflect-metadata';
import { declareFieldTypes, type FieldTypes } from '../field-types';
import { describeClass } from '../registration-error';

export interface ValueObjectOptions {
  /** Classes to rebuild fields as where TypeScript's metadata cannot tell them: an array's elements (`{ lines: () => Line }`). */
  types?: FieldTypes;
}

/**
 * Marks a class used inside events (or snapshots) as a value: its constructor parameter properties
 * typed as a Date or a class read back as those types, as an event's do. Any class decorator makes
 * TypeScript record the constructor's parameter types; this one also takes `types`.
 */
export function ValueObject(options: ValueObjectOptions = {}): ClassDecorator {
  return (valueClass) => {
    declareFieldTypes(valueClass, options.types ?? {}, `@ValueObject() on class ${describeClass(valueClass)}`);
  };
}
