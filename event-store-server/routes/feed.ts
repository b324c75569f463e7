import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AnswerEvent, sharedEventJson } from '../event-json';
import type { FeedTail } from '../feed-tail';
import { feedPageJson, sendJson } from '../read-answers';
import { toProblem } from '../problem';
import { parseEntityTypes } from '../query-params';
import type { ReaderSlots } from '../reader-slots';
import { untilDrained } from '../until-drained';
import { feedEndSchema, readFeedSchema, streamFeedSchema } from '../schemas';
import type { ServerStore } from '../server-store';

export interface FeedDeps {
  /** Answers where the feed ends. */
  store: ServerStore;
  /** The process's one reader of the feed, which every long poll and stream waits on. */
  tail: FeedTail;
  /** Open SSE streams, capped. */
  streams: ReaderSlots;
  /** Waiting long polls (waitMs above 0), capped. */
  longPolls: ReaderSlots;
  /** Aborted when the app closes: long polls return and streams end, so shutdown is not held up. */
  shutdown: AbortSignal;
  /** How often an idle SSE stream sends a comment line, keeping proxies and clients from timing out. */
  heartbeatMs: number;
}

const STREAM_PAGE_SIZE = 100;

/** Aborts when the client goes away (the response closes before it was finished) or the app shuts down. */
function requestLifetime(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const disconnected = new AbortController();
  reply.raw.once('close', () => disconnected.abort());
  return AbortSignal.any([disconnected.signal, shutdown]);
}

function sseMessage(event: AnswerEvent): string {
  return `id: ${event.cursor}\ndata: ${sharedEventJson(event)}\n\n`;
}

/** Writes `chunk`; when the socket's buffer is full, resolves once it drained or closed. */
async function write(res: ServerResponse, chunk: string): Promise<void> {
  if (!res.write(chunk)) await untilDrained(res);
}

export function registerFeedRoutes(app: FastifyInstance, { store, tail, streams, longPolls, shutdown, heartbeatMs }: FeedDeps): void {
  app.get<{ Querystring: { after?: string; limit?: number; entityTypes?: string; waitMs?: number } }>(
    '/events',
    { schema: readFeedSchema },
    async (request, reply) => {
      const { after, limit, entityTypes, waitMs = 0 } = request.query;
      const read = { after, limit, entityTypes: parseEntityTypes(entityTypes), waitMs, signal: requestLifetime(reply, shutdown) };
      if (waitMs === 0) return sendJson(reply, feedPageJson(await tail.read(read)));
      const release = longPolls.take();
      try {
        return sendJson(reply, feedPageJson(await tail.read(read)));
      } finally {
        release();
      }
    },
  );

  app.get('/events/end', { schema: feedEndSchema }, async () => store.readFeedEnd());

  app.get<{ Querystring: { after?: string; entityTypes?: string } }>('/events/stream', { schema: streamFeedSchema }, async (request, reply) => {
    const lastEventId = request.headers['last-event-id'];
    // A reconnecting EventSource sends the id of the last event it received; that wins over ?after.
    const start = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : (request.query.after ?? '');
    const entityTypes = parseEntityTypes(request.query.entityTypes);
    const release = streams.take();
    const signal = requestLifetime(reply, shutdown);
    let page;
    try {
      // The first page is read before the stream begins, so that a cursor the store refuses is a
      // 400 problem rather than an error inside a 200 stream.
      page = await tail.read({ after: start, limit: STREAM_PAGE_SIZE, entityTypes, waitMs: 0, signal });
    } catch (err) {
      release();
      throw err;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });

    try {
      // A page at a time, written whole: a consumer slower than the feed holds one page here and
      // falls behind the tail, whose window or the store serves it when it asks again.
      await write(res, 'retry: 2000\n\n' + page.events.map(sseMessage).join(''));
      while (!signal.aborted && !res.destroyed) {
        // The tail wakes on a commit; waiting the heartbeat interval only bounds the silence.
        page = await tail.read({ after: page.cursor, limit: STREAM_PAGE_SIZE, entityTypes, waitMs: heartbeatMs, signal });
        if (page.events.length > 0) await write(res, page.events.map(sseMessage).join(''));
        else if (!signal.aborted) await write(res, ': heartbeat\n\n');
      }
    } catch (err) {
      // The status line is gone; tell the client in-band and end. EventSource reconnects with Last-Event-ID.
      const { problem, unexpected } = toProblem(err);
      if (unexpected) request.log.error({ err }, 'feed stream failed');
      if (!res.destroyed) res.write(`event: error\ndata: ${JSON.stringify(problem)}\n\n`);
    } finally {
      release();
      // The stream's connection is not reused: ending it lets a closing server finish instead of waiting for keep-alive to expire.
      const socket = res.socket; // detached from the response once it has ended
      res.end(() => socket?.end());
    }
  });
}
