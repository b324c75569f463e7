import type { FeedLag } from './feed-lag';
import type { SubscriberPosition, SubscriberStatus } from './subscription-manager';

/**
 * The part of a prom-client Registry the gauges need. prom-client is an optional peer dependency (a
 * client-only install leaves it out), so the client names no prom-client type and loads it only here.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
}

/** The subscribers' status as Prometheus gauges labelled by subscriber, read at scrape time. */
export function registerSubscriberMetrics(registry: MetricsRegistry, status: () => SubscriberStatus[], positions: () => Promise<SubscriberPosition[]>): void {
  const { Gauge } = loadPromClient();
  const gauge = (name: string, help: string, value: (s: SubscriberStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscriber'],
      registers: [registry as unknown as import('prom-client').Registry],
      collect() {
        this.reset();
        for (const s of status()) this.set({ subscriber: s.subscriberId }, value(s));
      },
    });
  gauge('eventuate_subscriber_running', '1 while the subscriber runs, 0 once it stopped (by itself: see its status error)', (s) => (s.running ? 1 : 0));
  gauge('eventuate_subscriber_source_failing', '1 while its source cannot read and retries (feed errors, Kafka consumer restarting)', (s) => (s.sourceError ? 1 : 0));
  gauge('eventuate_subscriber_dead_letters', 'Events whose handler failed after the last attempt, waiting for a retry or a discard', (s) => s.deadLetters.failed);
  gauge('eventuate_subscriber_parked_events', 'Events parked behind a dead letter of their entity, waiting to be handled in order', (s) => s.deadLetters.parked);
  gauge('eventuate_subscriber_parked_entities', 'Entities whose events wait behind a dead letter', (s) => s.deadLetters.parkedEntities);
  // Both lag gauges come from one read of the feed per scrape.
  let read: { at: number; positions: Promise<SubscriberPosition[]> } | undefined;
  const positionsNow = () => {
    if (!read || Date.now() - read.at > 100) read = { at: Date.now(), positions: positions() };
    return read.positions;
  };
  gauge('eventuate_subscriber_rebuilding', '1 while a projection replays into a new copy (its current one serves)', (s) => (s.state === 'rebuilding' ? 1 : 0));
  const lagGauge = (name: string, help: string, value: (lag: FeedLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscriber'],
      registers: [registry as unknown as import('prom-client').Registry],
      async collect() {
        this.reset();
        for (const p of await positionsNow()) if (p.lag) this.set({ subscriber: p.subscriberId }, value(p.lag));
      },
    });
  lagGauge('eventuate_subscriber_lag_events', 'Events of its types after its feed checkpoint (counted up to 1000; feed sources only)', (lag) => lag.events);
  lagGauge('eventuate_subscriber_lag_seconds', 'Age of the oldest event waiting after its feed checkpoint, 0 when none waits (feed sources only)', (lag) => lag.seconds);
}

function loadPromClient(): typeof import('prom-client') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client') as typeof import('prom-client');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error("SubscriptionManager.registerMetrics needs prom-client, an optional peer dependency of eventuate-local-ts: npm install 'prom-client@^15.1.3'", { cause: err });
  }
}
