import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemOf, sendProblem, type Problem } from './problem';

/**
 * Answers to requests that fail before Fastify routes them, as problems like every other answer:
 * Node's HTTP parser errors (not HTTP, headers too large, the request timeout) reach
 * `clientErrorHandler` with only a socket; a path that cannot be decoded reaches `frameworkErrors`.
 */
export function frameworkErrorOptions(requestTimeoutMs: number): Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'> {
  return {
    clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
      // The client reset the connection, or it is already gone: there is nobody to answer.
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const problem = clientErrorProblem(err, requestTimeoutMs);
      // As Node itself does: never write a second status line into a response already under way.
      const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (socket.writable && !inFlight?.headersSent) writeProblem(socket, problem);
      socket.destroy();
    },
    frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
      const detail = UNROUTABLE_PATHS[err.code];
      return sendProblem(reply, detail ? problemOf('validation_error', detail, { field: 'url' }) : problemOf('bad_request', 'the request could not be routed'));
    },
  };
}

const UNROUTABLE_PATHS: Record<string, string> = {
  FST_ERR_BAD_URL: 'the path is not a valid URL (bad percent-encoding)',
  FST_ERR_MAX_PARAM_LENGTH: 'a segment of the path is too long',
};

function clientErrorProblem(err: NodeJS.ErrnoException, requestTimeoutMs: number): Problem {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problemOf('request_timeout', `the request (headers and body) was not received within ${requestTimeoutMs} ms`);
    case 'HPE_HEADER_OVERFLOW':
      return problemOf('headers_too_large', 'the request headers are larger than the server accepts');
    default:
      return problemOf('bad_request', `the request is not valid HTTP/1.1${err.code ? ` (${err.code})` : ''}`);
  }
}

function writeProblem(socket: Socket, problem: Problem): void {
  const body = JSON.stringify(problem);
  socket.write(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
