import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Query strings and path parameters arrive as text and need type coercion ("5" -> 5); JSON bodies
 * must not get it, or `"eventType": true` would pass as the name "true". Fastify's built-in
 * compiler uses one Ajv with coercion for every part, hence two instances here.
 */
export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  // allErrors stays false: collecting every error of a hostile 1000-event body costs time for nothing.
  const common = { useDefaults: true, removeAdditional: true, allErrors: false } as const;
  const bodyAjv = new Ajv({ ...common, coerceTypes: false });
  const textAjv = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return bodyAjv.compile(schema as object);
    const validate = textAjv.compile(schema as object);
    return httpPart === 'querystring' ? withDecimalIntegers(validate, schema as QuerySchema) : validate;
  };
}

interface QuerySchema {
  properties?: Record<string, { type?: unknown }>;
}

/** Digits only, with a sign so that "-1" gets the range's message rather than this one. */
const DECIMAL_INTEGER = /^-?[0-9]+$/;

/**
 * Ajv's coercion reads "Infinity", "1e2", "0x10", " 5" and "1.0" as integers, and lets Infinity past
 * `maximum` (`waitMs=Infinity` held a request for minutes). An integer query parameter must be
 * written in decimal digits; Ajv then converts it and checks its range.
 */
function withDecimalIntegers(validate: ValidateFunction, schema: QuerySchema): ValidateFunction {
  const integers = Object.entries(schema.properties ?? {})
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
  if (integers.length === 0) return validate;
  const checked = ((data: Record<string, unknown> | null) => {
    for (const name of integers) {
      const value = data?.[name];
      if (value !== undefined && !(typeof value === 'string' && DECIMAL_INTEGER.test(value))) {
        const error: ErrorObject = {
          keyword: 'type',
          instancePath: `/${name}`,
          schemaPath: `#/properties/${name}/type`,
          params: { type: 'integer' },
          message: 'must be an integer written in decimal digits',
        };
        checked.errors = [error];
        return false;
      }
    }
    const valid = validate(data);
    checked.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  return checked;
}
