import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, EventStoreError, HTTP_STATUS, ServiceUnavailableError, TooManyRequestsError } from '../src/errors';
import { isUnavailable } from '../src/postgres/sql';

/** The store's codes, plus `not_found` for a path that is no route at all (not a missing entity). */
export type ProblemCode = ErrorCode | 'not_found';

const TITLES: Record<ProblemCode, string> = {
  not_found: 'Not found',
  validation_error: 'Invalid request',
  unauthorized: 'Unauthorized',
  entity_not_found: 'Entity not found',
  entity_exists: 'Entity already exists',
  optimistic_lock_error: 'Optimistic lock conflict',
  duplicate_event: 'Duplicate triggering event',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  service_unavailable: 'Service unavailable',
  too_many_requests: 'Too many requests',
  internal_error: 'Internal server error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  error: ProblemCode;
  [detail: string]: unknown;
}

export function problemOf(code: ProblemCode, detail: string, details: Record<string, unknown> = {}): Problem {
  const status = code === 'not_found' ? 404 : HTTP_STATUS[code];
  // Details never override the members every client relies on.
  return { ...details, type: `urn:eventuate-local:error:${code}`, title: TITLES[code], status, detail, error: code };
}

/** Fastify's own request errors, by their code, in the API's vocabulary. */
function fromFastifyError(err: FastifyError): Problem | undefined {
  if (err.validation) {
    const first = err.validation[0];
    const field = [err.validationContext, first?.instancePath?.replace(/^\//, '')].filter(Boolean).join('/');
    return problemOf('validation_error', err.message, { field, errors: err.validation.map((e) => ({ path: e.instancePath, message: e.message })) });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problemOf('unsupported_media_type', 'the request body must be application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemOf('payload_too_large', err.message);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problemOf('validation_error', err.message);
  }
  // secure-json-parse's errors (malformed JSON, __proto__) and the like carry 400 and no code.
  if (err.statusCode === 400 || err instanceof SyntaxError) return problemOf('validation_error', `malformed request: ${err.message}`);
  if (err.statusCode === 413) return problemOf('payload_too_large', err.message);
  if (err.statusCode === 415) return problemOf('unsupported_media_type', err.message);
  return undefined;
}

export function toProblem(err: unknown): { problem: Problem; unexpected: boolean } {
  if (err instanceof EventStoreError) return { problem: problemOf(err.code, err.message, err.details), unexpected: false };
  // The store translates driver errors itself; this catches any that escape it.
  if (isUnavailable(err)) {
    const unavailable = new ServiceUnavailableError();
    return { problem: problemOf(unavailable.code, unavailable.message), unexpected: false };
  }
  const known = fromFastifyError(err as FastifyError);
  if (known) return { problem: known, unexpected: false };
  return { problem: problemOf('internal_error', 'the server failed to handle the request'), unexpected: true };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Every error, from validation to a vanished database, leaves as application/problem+json. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { problem, unexpected } = toProblem(err);
    if (unexpected) request.log.error({ err }, 'unhandled error');
    else if (problem.status >= 500) request.log.warn({ err }, problem.detail);
    if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemOf('not_found', `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`)),
  );
}
