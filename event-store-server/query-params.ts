import { ValidationError } from '../src/errors';
import { entityTypeRegex } from '../src/names';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** `asOf` must be an ISO-8601 date or instant; anything Date would guess at is refused. */
export function parseInstant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!ISO_INSTANT.test(value) || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} must be an ISO-8601 date or instant, e.g. 2024-05-01T12:00:00Z`, { field });
  }
  return date;
}

/** `entityTypes=A,B` as a list; empty or absent means every type. */
export function parseEntityTypes(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const type of types) {
    if (!entityTypeRegex.test(type)) {
      throw new ValidationError(`entityTypes must be a comma-separated list of names matching ${entityTypeRegex.source}`, { field: 'entityTypes' });
    }
  }
  return types.length > 0 ? types : undefined;
}
