import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';

export interface ServerMetrics {
  registry: Registry;
  appendedEvents: Counter<'entity_type'>;
}

/** One registry per app, so several apps in one process (tests, embedding) keep separate counts. */
export function registerMetrics(app: FastifyInstance, options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'eventuate_' });
  const requests = new Counter({
    name: 'eventuate_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'eventuate_http_request_duration_seconds',
    help: 'HTTP request latency, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const appendedEvents = new Counter({
    name: 'eventuate_appended_events_total',
    help: 'Events written by create and append requests, by entity type',
    labelNames: ['entity_type'] as const,
    registers: [registry],
  });
  // Not async: that would cost every request a promise and a turn of the microtask queue.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL, keeps the label set small; unmatched paths share one label.
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  return { registry, appendedEvents };
}
