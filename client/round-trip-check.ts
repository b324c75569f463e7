import { describeClass } from './registration-error';

/**
 * Where `restored` (an instance read back from its JSON) differs from `original`, e.g.
 * `.openedAt: a Date became a string; add @Type(() => Date)`, or undefined when they are equal.
 * Catches fields class-transformer cannot restore without `@Type` before they corrupt replays.
 */
export function roundTripDifference(original: unknown, restored: unknown, path = ''): string | undefined {
  if (Object.is(original, restored)) return undefined;
  const here = path || '(the object itself)';
  const originalIsObject = typeof original === 'object' && original !== null;
  const restoredIsObject = typeof restored === 'object' && restored !== null;
  if (!originalIsObject || !restoredIsObject || Object.getPrototypeOf(original) !== Object.getPrototypeOf(restored)) {
    const cls = originalIsObject ? Object.getPrototypeOf(original)?.constructor : undefined;
    const hint = cls && cls !== Object && cls !== Array ? `; add @Type(() => ${describeClass(cls)})` : '';
    return `${here}: ${describe(original)} became ${describe(restored)}${hint}`;
  }
  if (original instanceof Date) {
    return original.getTime() === (restored as Date).getTime() ? undefined : `${here}: ${describe(original)} became ${describe(restored)}`;
  }
  const keys = new Set([...Object.keys(original as object), ...Object.keys(restored as object)]);
  for (const key of keys) {
    const at = Array.isArray(original) ? `${path}[${key}]` : `${path}.${key}`;
    const difference = roundTripDifference((original as any)[key], (restored as any)[key], at);
    if (difference) return difference;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return `the Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`;
  if (typeof value === 'number') return `the number ${Object.is(value, -0) ? '-0' : String(value)}`;
  if (typeof value !== 'object') return `the ${typeof value} ${JSON.stringify(value) ?? String(value)}`;
  if (Array.isArray(value)) return 'an array';
  const cls = Object.getPrototypeOf(value)?.constructor;
  return cls === Object || !cls ? 'a plain object' : `a ${describeClass(cls)}`;
}

/** Where `value` holds a Date that is not a valid time (JSON that was no date, read into a Date field), if anywhere. */
export function invalidDatePath(value: unknown, path = ''): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? path || '(the object itself)' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, member] of Object.entries(value)) {
    const found = invalidDatePath(member, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
