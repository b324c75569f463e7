import Fastify, { FastifyBaseLogger, FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../src/errors';
import { registerApiKeyAuth } from './auth';
import { frameworkErrorOptions } from './framework-errors';
import { InFlight } from './in-flight';
import { registerJsonBodyParser } from './json-body';
import { registerMetrics } from './metrics';
import { registerProblemHandlers } from './problem';
import { RequestLog } from './request-log';
import { registerEntityReadRoutes } from './routes/entity-read';
import { registerEntityWriteRoutes } from './routes/entity-write';
import { registerFeedRoutes } from './routes/feed';
import { registerOpsRoutes } from './routes/ops';
import type { ServerStore } from './server-store';
import { requestValidatorCompiler } from './validator';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_CONNECTIONS, DEFAULT_READY_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './config';

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
  /** Extra readiness checks for /ready, run after the store's ping. */
  readiness?: () => Promise<void>;
  /** Close the store when the app closes (after in-flight writes); default true. */
  closeStore?: boolean;
  /** Comment lines on an idle SSE stream this often; default 15 s. */
  heartbeatMs?: number;
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
  const shutdown = new AbortController();
  registerProblemHandlers(app);
  app.addHook('onRequest', async () => {
    if (shutdown.signal.aborted) throw new ServiceUnavailableError('the server is shutting down');
  });
  registerApiKeyAuth(app, options.apiKeys ?? []);
  const metrics = registerMetrics(app, { defaultMetrics: options.defaultMetrics });
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
    registerEntityWriteRoutes(routes, { store, metrics, writes });
    registerEntityReadRoutes(routes, { store });
    registerFeedRoutes(routes, { store, shutdown: shutdown.signal, heartbeatMs: options.heartbeatMs ?? 15_000 });
    registerOpsRoutes(routes, {
      store,
      metrics,
      readiness: options.readiness ? [options.readiness] : [],
      closing: () => shutdown.signal.aborted,
      readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    });
    routes.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });

  // preClose runs before the server stops accepting: release long polls and streams, which would otherwise hold it open.
  app.addHook('preClose', async () => shutdown.abort());
  // A keep-alive connection would hold the closing server open until it idles out; answers given while closing end theirs.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shutdown.signal.aborted) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onClose', async () => {
    await writes.drain();
    if (options.closeStore !== false) await store.close();
  });
  return app;
}
