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
}

export function registerOpsRoutes(app: FastifyInstance, { store, metrics, readiness, closing }: OpsDeps): void {
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: readySchema }, async () => {
    if (closing()) throw new ServiceUnavailableError('the server is shutting down');
    try {
      await store.ping?.();
      for (const check of readiness) await check();
    } catch (err) {
      if (err instanceof ServiceUnavailableError) throw err;
      throw new ServiceUnavailableError(`not ready: ${err instanceof Error ? err.message : String(err)}`, {
        ...(err instanceof EventStoreError ? { cause: err.code } : {}),
      });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
