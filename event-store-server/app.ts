import Fastify, { FastifyBaseLogger, FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../src/errors';
import { registerApiKeyAuth } from './auth';
import { registerConsoleRoutes } from './console/console-routes';
import { frameworkErrorOptions } from './framework-errors';
import { registerFeedMetrics } from './feed-metrics';
import { FeedTail } from './feed-tail';
import { InFlight } from './in-flight';
import { registerJsonBodyParser } from './json-body';
import { registerMetrics } from './metrics';
import { registerProblemHandlers, toProblem } from './problem';
import { ReaderSlots } from './reader-slots';
import { RequestLog } from './request-log';
import { registerEntityReadRoutes } from './routes/entity-read';
import { registerEntityWriteRoutes } from './routes/entity-write';
import { registerFeedRoutes } from './routes/feed';
import { registerOpsRoutes } from './routes/ops';
import type { ServerStore } from './server-store';
import { requestValidatorCompiler } from './validator';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FEED_STREAMS,
  DEFAULT_MAX_LONG_POLLS,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './config';

/** A refused reader is told to come back after this long: slots free as other readers leave, which no one can predict. */
const FEED_RETRY_AFTER_SECONDS = 5;

export interface AppOptions {
  store: ServerStore;
  /** Non-empty: every route but /health and /ready needs `Authorization: Bearer <key>`. */
  apiKeys?: readonly string[];
  /** Largest accepted request body in bytes; default 5 MiB. */
  bodyLimit?: number;
  /** Longest time to receive a whole request, headers and body (408 after it); default 30 s. */
  requestTimeoutMs?: number;
  /** Open connections at most; further ones are closed at once. Default 10,000. */
  maxConnections?: number;
  /** /ready answers within this long whatever the database does; default 800 ms. */
  readyTimeoutMs?: number;
  /** A pino logger (see logging.ts) for the app's records; each request is one debug record. Default: no logging. */
  logger?: FastifyBaseLogger;
  /** Set when a relay publishes this store: an event whose Kafka message would be larger gets 413. */
  maxEventMessageBytes?: number;
  /** Extra readiness checks for /ready, run after the store's ping. */
  readiness?: () => Promise<void>;
  /** Close the store when the app closes (after in-flight writes); default true. */
  closeStore?: boolean;
  /** Comment lines on an idle SSE stream this often; default 15 s. */
  heartbeatMs?: number;
  /** Most SSE streams open at once; more get 429 too_many_requests. Default 1000. */
  maxFeedStreams?: number;
  /** Most long polls (GET /events with waitMs above 0) under way at once; more get 429. Default 1000. */
  maxLongPolls?: number;
  /** Without a commit announcement, the feed tail reads again this often while readers wait; default 1000 ms. */
  feedFallbackPollMs?: number;
  /** Recent events the feed tail keeps for readers a little behind it; default 10,000. */
  feedWindowEvents?: number;
  /** Process metrics (CPU, memory, event loop) in /metrics; default true. */
  defaultMetrics?: boolean;
  /** Adds metrics of other components (e.g. the relay's gauges) to this app's /metrics. */
  registerMetrics?: (registry: Registry) => void;
}

/** The event store's HTTP API as a Fastify instance, not yet listening. */
export function buildApp(options: AppOptions): FastifyInstance {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new RequestLog(),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Entity ids are up to 200 characters; longer ones must reach validation and get a 400, not a 404.
    routerOptions: { maxParamLength: 16 * 1024 },
    // Socket idle limit: above the longest long poll (30 s) and SSE heartbeat, below "forever".
    connectionTimeout: 120_000,
    // Time to receive a whole request; a slow-loris client cannot hold a socket (and the body it sent so far) longer.
    requestTimeout,
    // Node must get the timeouts when it builds the server. Fastify assigns requestTimeout afterwards, and
    // Node, finding its default headersTimeout (60 s) above it, silently swaps the two, so 60 s applied;
    // connections were checked every 30 s, so a slow body lived up to 90 s instead of 30.
    http: { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout) },
    keepAliveTimeout: 72_000,
    // Requests arriving while closing get a 503 problem from the hook below rather than Fastify's plain JSON.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ...frameworkErrorOptions(requestTimeout),
  });
  // Each connection holds memory (a body in progress: up to bodyLimit); Node closes connections beyond this at once.
  app.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  app.setValidatorCompiler(requestValidatorCompiler());
  // Only JSON bodies (text/plain would otherwise be parsed into a string and fail later, less clearly), checked to the letter.
  registerJsonBodyParser(app);

  const store = options.store;
  const writes = new InFlight();
  const tail = new FeedTail(store, {
    fallbackPollMs: options.feedFallbackPollMs,
    windowEvents: options.feedWindowEvents,
    onError: (err) => {
      // Its waiting readers get the error too; the next reader starts the tail again.
      if (toProblem(err).unexpected) app.log.error({ err }, 'the feed tail failed');
      else app.log.warn({ err }, `the feed tail stopped: ${err.message}`);
    },
  });
  const streams = new ReaderSlots(options.maxFeedStreams ?? DEFAULT_MAX_FEED_STREAMS, 'open feed streams', 'EVENTUATE_FEED_MAX_STREAMS', FEED_RETRY_AFTER_SECONDS);
  const longPolls = new ReaderSlots(options.maxLongPolls ?? DEFAULT_MAX_LONG_POLLS, 'waiting long polls', 'EVENTUATE_FEED_MAX_LONG_POLLS', FEED_RETRY_AFTER_SECONDS);
  const shutdown = new AbortController();
  registerProblemHandlers(app);
  // Hooks that do nothing asynchronous take `done` rather than being async: an async hook costs every request a promise and a turn of the microtask queue.
  app.addHook('onRequest', (_request, _reply, done) => {
    done(shutdown.signal.aborted ? new ServiceUnavailableError('the server is shutting down') : undefined);
  });
  registerApiKeyAuth(app, options.apiKeys ?? []);
  const metrics = registerMetrics(app, { defaultMetrics: options.defaultMetrics });
  registerFeedMetrics(metrics.registry, { tail, streams, longPolls });
  options.registerMetrics?.(metrics.registry);

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'eventuate-local-ts event store', version: '0.1.0', description: 'Append-only entity event streams with optimistic versioning, history and a global feed.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.apiKeys?.length ? [{ bearer: [] }] : [],
      tags: [
        { name: 'entities', description: 'Write and read entity event streams' },
        { name: 'feed', description: 'The global feed of committed events' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register(async (routes) => {
    registerEntityWriteRoutes(routes, { store, metrics, writes, maxEventMessageBytes: options.maxEventMessageBytes });
    registerEntityReadRoutes(routes, { store });
    registerFeedRoutes(routes, { store, tail, streams, longPolls, shutdown: shutdown.signal, heartbeatMs: options.heartbeatMs ?? 15_000 });
    registerOpsRoutes(routes, {
      store,
      metrics,
      readiness: options.readiness ? [options.readiness] : [],
      closing: () => shutdown.signal.aborted,
      readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    });
    registerConsoleRoutes(routes);
    routes.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });

  // preClose runs before the server stops accepting: release long polls and streams, which would otherwise hold it open.
  app.addHook('preClose', async () => shutdown.abort());
  // A keep-alive connection would hold the closing server open until it idles out; answers given while closing end theirs.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.signal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onClose', async () => {
    await tail.close();
    await writes.drain();
    if (options.closeStore !== false) await store.close();
  });
  return app;
}
