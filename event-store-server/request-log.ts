import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's request logging made quiet: instead of two info records per request ("incoming request",
 * "request completed"), one debug record once the answer has gone out (method, url, statusCode, ms).
 * Failures keep their levels: an answer that failed to go out is an error, and the error handler
 * (problem.ts) logs 5xx answers itself.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    reply.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  }

  /** A client that goes away mid-answer (a closed SSE tab) is routine, not news. */
  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') reply.log.debug('client closed the connection before the answer was complete');
    else super.streamError(error, request, reply);
  }
}
