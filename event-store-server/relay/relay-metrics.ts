import { Gauge, Registry } from 'prom-client';
import type { RelayStatus } from './event-relay';
import { LAG_COUNT_LIMIT } from './relay-lag';

/** The relay's status as Prometheus gauges, read at scrape time. */
export function registerRelayMetrics(registry: Registry, status: () => RelayStatus): void {
  const gauge = (name: string, help: string, value: (s: RelayStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(status()));
      },
    });
  // A count stops at the limit: the help says so, so that a capped figure is not read as the whole backlog.
  gauge('eventuate_relay_lag_events', `Committed events the relay has not yet published to Kafka, counted up to ${LAG_COUNT_LIMIT} (the limit means that many or more)`, (s) => s.lagEvents);
  gauge('eventuate_relay_lag_seconds', 'Age in seconds of the oldest committed event not yet published to Kafka', (s) => s.lagSeconds);
  gauge('eventuate_relay_leader', '1 while this process is the publishing relay, 0 while it stands by', (s) => (s.leader ? 1 : 0));
  gauge('eventuate_relay_ready', '1 while Kafka accepts the relay\'s batches, 0 while it retries', (s) => (s.ready ? 1 : 0));
  gauge('eventuate_relay_halted', '1 once the relay stopped at an event it cannot publish (see /ready and the log), 0 otherwise', (s) => (s.halted ? 1 : 0));
  gauge('eventuate_relay_skipped_events', 'Events this process left unpublished because EVENTUATE_RELAY_SKIP_EVENTS names them', (s) => s.skippedEvents);
  gauge('eventuate_relay_published_events', 'Events this process published to Kafka since it started', (s) => s.publishedEvents);
}
