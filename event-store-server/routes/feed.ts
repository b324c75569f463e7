import type { FastifyInstance, FastifyReply } from 'fastify';
import type { StoredEvent } from '../../src/model';
import { toProblem } from '../problem';
import { parseEntityTypes } from '../query-params';
import { readFeedSchema, streamFeedSchema } from '../schemas';
import type { ServerStore } from '../server-store';
import { untilDrained } from '../until-drained';

export interface FeedDeps {
  store: ServerStore;
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

export function registerFeedRoutes(app: FastifyInstance, { store, shutdown, heartbeatMs }: FeedDeps): void {
  app.get<{ Querystring: { after?: string; limit?: number; entityTypes?: string; waitMs?: number } }>(
    '/events',
    { schema: readFeedSchema },
    async (request, reply) => {
      const { after, limit, entityTypes, waitMs } = request.query;
      return store.readFeed({ after, limit, entityTypes: parseEntityTypes(entityTypes), waitMs, signal: requestLifetime(reply, shutdown) });
    },
  );

  app.get<{ Querystring: { after?: string; entityTypes?: string } }>('/events/stream', { schema: streamFeedSchema }, async (request, reply) => {
    const lastEventId = request.headers['last-event-id'];
    // A reconnecting EventSource sends the id of the last event it received; that wins over ?after.
    const start = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : (request.query.after ?? '');
    const entityTypes = parseEntityTypes(request.query.entityTypes);
    const signal = requestLifetime(reply, shutdown);
    // The first page is read before the stream begins, so that a cursor the store refuses (malformed,
    // another store's, past its present) is a 400 problem rather than an error inside a 200 stream.
    let page = await store.readFeed({ after: start, limit: STREAM_PAGE_SIZE, entityTypes, signal });

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const write = async (chunk: string) => {
      if (!res.write(chunk)) await untilDrained(res);
    };
    const sendEvent = (event: StoredEvent) => write(`id: ${event.cursor}\ndata: ${JSON.stringify(event)}\n\n`);

    try {
      await write('retry: 2000\n\n');
      for (const event of page.events) await sendEvent(event);
      while (!signal.aborted && !res.destroyed) {
        // The store's long poll wakes on a commit (LISTEN/NOTIFY); waiting the heartbeat interval only bounds the silence.
        page = await store.readFeed({ after: page.cursor, limit: STREAM_PAGE_SIZE, entityTypes, waitMs: heartbeatMs, signal });
        for (const event of page.events) await sendEvent(event);
        if (page.events.length === 0 && !signal.aborted) await write(': heartbeat\n\n');
      }
    } catch (err) {
      // The status line is gone; tell the client in-band and end. EventSource reconnects with Last-Event-ID.
      const { problem, unexpected } = toProblem(err);
      if (unexpected) request.log.error({ err }, 'feed stream failed');
      if (!res.destroyed) res.write(`event: error\ndata: ${JSON.stringify(problem)}\n\n`);
    } finally {
      // The stream's connection is not reused: ending it lets a closing server finish instead of waiting for keep-alive to expire.
      const socket = res.socket; // detached from the response once it has ended
      res.end(() => socket?.end());
    }
  });
}
