import { Gauge, type Registry } from 'prom-client';
import type { SubscriberStatus } from './subscription-manager';

/** The subscribers' status as Prometheus gauges labelled by subscriber, read at scrape time. */
export function registerSubscriberMetrics(registry: Registry, status: () => SubscriberStatus[]): void {
  const gauge = (name: string, help: string, value: (s: SubscriberStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscriber'],
      registers: [registry],
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
}
