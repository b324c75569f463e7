import type { FastifyInstance } from 'fastify';
import { EventStoreError, ServiceUnavailableError } from '../../src/errors';
import type { ServerMetrics } from '../metrics';
import { healthSchema, metricsSchema, readySchema } from '../schemas';
import type { ServerStore } from '../server-store';

export interface OpsDeps {
  store: ServerStore;
  metrics: ServerMetrics;
  /** Extra checks /ready runs after the database answers (e.g. the relay's Kafka connection). */
  readiness: Array<() => Promise<void>>;
  /** True once shutdown began: /ready then says no, so load balancers stop sending traffic. */
  closing: () => boolean;
  /** /ready answers within this long whatever the database does: no answer in time is "not ready". */
  readyTimeoutMs: number;
}

export function registerOpsRoutes(app: FastifyInstance, { store, metrics, readiness, closing, readyTimeoutMs }: OpsDeps): void {
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok' }));

  // One round of checks at a time: probes arriving while the database hangs share it rather than
  // each taking another pool connection until the query timeout frees it.
  let running: Promise<void> | undefined;
  const checkOnce = () =>
    (running ??= (async () => {
      await store.ping?.();
      for (const check of readiness) await check();
    })().finally(() => (running = undefined)));

  app.get('/ready', { schema: readySchema }, async (request) => {
    if (closing()) throw new ServiceUnavailableError('the server is shutting down');
    try {
      await withDeadline(checkOnce(), readyTimeoutMs);
    } catch (err) {
      // /ready is open to anyone: an EventStoreError's message is written for callers; anything else
      // (a driver's or a client library's message, with hosts and ports) goes to the log only.
      if (err instanceof EventStoreError) throw err;
      request.log.warn({ err }, 'not ready');
      throw new ServiceUnavailableError('not ready: a readiness check failed (the server log says which and why)');
    }
    return { status: 'ready' };
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

/** Settles like `work`, or rejects with ServiceUnavailableError once `ms` have passed; `work` goes on in the background. */
function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServiceUnavailableError(`not ready: the readiness checks (the database first) did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
