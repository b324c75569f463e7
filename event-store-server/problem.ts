import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, EventStoreError, HTTP_STATUS, TooManyRequestsError } from '../src/errors';

/**
 * The store's codes, plus the server's own for requests that never reach a route: `not_found` (no
 * such path, not a missing entity), `method_not_allowed`, `bad_request` (not valid HTTP),
 * `request_timeout` and `headers_too_large`.
 */
export type ProblemCode = ErrorCode | ServerProblemCode;
type ServerProblemCode = 'not_found' | 'method_not_allowed' | 'bad_request' | 'request_timeout' | 'headers_too_large';

const SERVER_STATUS: Record<ServerProblemCode, number> = {
  not_found: 404,
  method_not_allowed: 405,
  bad_request: 400,
  request_timeout: 408,
  headers_too_large: 431,
};

const TITLES: Record<ProblemCode, string> = {
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  bad_request: 'Bad request',
  request_timeout: 'Request timeout',
  headers_too_large: 'Request header fields too large',
  validation_error: 'Invalid request',
  unauthorized: 'Unauthorized',
  entity_not_found: 'Entity not found',
  event_not_found: 'Event not found',
  entity_exists: 'Entity already exists',
  optimistic_lock_error: 'Optimistic lock conflict',
  duplicate_event: 'Duplicate triggering event',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  service_unavailable: 'Service unavailable',
  invalid_cursor: 'Invalid cursor',
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
  const status = code in SERVER_STATUS ? SERVER_STATUS[code as ServerProblemCode] : HTTP_STATUS[code as ErrorCode];
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
  // A store reports its database's failures as EventStoreErrors (503 among them), so errors are
  // classified by where they come from: a driver error that reached this point escaped its store, and
  // an ECONNRESET here is the client's socket, not the database.
  if (err instanceof EventStoreError) return { problem: problemOf(err.code, err.message, err.details), unexpected: false };
  const known = fromFastifyError(err as FastifyError);
  if (known) return { problem: known, unexpected: false };
  return { problem: problemOf('internal_error', 'the server failed to handle the request'), unexpected: true };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  // RFC 9110: a 401 names the scheme that would be accepted.
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Every error, from validation to a vanished database, leaves as application/problem+json. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (request.socket.destroyed) {
      // The client went away (mid-body, say): nobody will read an answer, and nothing failed on this side. Routine, as in request-log.ts.
      request.log.debug({ code: (err as { code?: string }).code }, 'client closed the connection before the answer');
      return reply.send();
    }
    const { problem, unexpected } = toProblem(err);
    if (unexpected) request.log.error({ err }, 'unhandled error');
    else if (problem.status >= 500) request.log.warn({ err }, problem.detail);
    if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const shown = path.slice(0, 200);
    // A path some route serves, with another method: 405 and the methods it does take.
    const allowed = ROUTABLE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, problemOf('method_not_allowed', `${request.method} is not allowed on ${shown}; allowed: ${allowed.join(', ')}`));
    }
    return sendProblem(reply, problemOf('not_found', `no route ${request.method} ${shown}`));
  });
}

const ROUTABLE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
