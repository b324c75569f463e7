import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { EventStoreError, ValidationError } from '../src/errors';
import { checkJsonText, MAX_JSON_DEPTH } from './json-text';

/**
 * The only body the API takes: application/json in UTF-8, parsed by Fastify's own parser (which
 * refuses `__proto__` and `constructor.prototype`), then held to what the store promises: values
 * stored exactly as sent (see json-text.ts).
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      checkCharset(request.headers['content-type']);
      const bytes = body as Buffer;
      // A lenient decoder would replace bad bytes with U+FFFD: a string other than the one sent.
      if (!isUtf8(bytes)) throw new ValidationError('the request body is not valid UTF-8', { field: 'body' });
      const text = bytes.toString('utf8');
      parseJson(request, text, (err, parsed) => {
        if (err) return done(err, undefined);
        const problem = checkJsonText(text, parsed);
        if (!problem) return done(null, parsed);
        done(refusal(problem), undefined);
      });
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** JSON is UTF-8 (RFC 8259); a body declared in another charset would be read as something it is not. */
function checkCharset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    throw new EventStoreError('unsupported_media_type', `the request body must be application/json in UTF-8, not charset=${charset.slice(0, 40)}`);
  }
}

function refusal(problem: NonNullable<ReturnType<typeof checkJsonText>>): ValidationError {
  switch (problem.kind) {
    case 'too_deep':
      return new ValidationError(`the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, { field: 'body' });
    case 'inexact_number':
      return new ValidationError(
        `body${problem.path} is ${problem.token.slice(0, 40)}, a number a double cannot hold exactly; send it as a string to keep it as written`,
        { field: `body${problem.path}`, errors: [{ path: problem.path, message: 'number not representable exactly as a double' }] },
      );
    case 'repeated_key':
      return new ValidationError(`body${problem.path} appears twice in one object; which one would be stored is not defined`, {
        field: `body${problem.path}`,
        errors: [{ path: problem.path, message: 'repeated key' }],
      });
  }
}
