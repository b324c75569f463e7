/**
 * Replays 100,000 events into an aggregate in memory and prints events/s, split so that a
 * regression shows where it is: dispatch alone, deserialization + dispatch, and a whole
 * `find` through the in-memory store.  Run: node -r ts-node/register/transpile-only bench/replay.ts
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Aggregate, AggregateRepository, Apply, DomainEvent, InMemoryEventStore, Process, serializeEvent, type StoredEvent } from '../client';
import { applyNewEvents, applyStoredEvents } from '../client/aggregate-runtime';
import { aggregateModelOf } from '../client/decorators/aggregate-registry';

const EVENT_COUNT = 100_000;

class Open {}

@DomainEvent('BenchOpened')
class Opened {}

@DomainEvent('BenchCredited')
class Credited {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

@DomainEvent('BenchDebited')
class Debited {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

@Aggregate('BenchAccount')
class BenchAccount {
  balance = 0;
  transactions = 0;

  @Process(Open) open() {
    return [new Opened()];
  }

  @Apply() opened(_event: Opened) {
    this.balance = 0;
  }

  @Apply() credited(event: Credited) {
    this.balance += event.amount;
    this.transactions++;
  }

  @Apply() debited(event: Debited) {
    this.balance -= event.amount;
    this.transactions++;
  }
}

function eventAt(i: number): Credited | Debited {
  return i % 3 === 2 ? new Debited(1, `t${i}`) : new Credited(2, `t${i}`);
}

function measure(label: string, run: () => BenchAccount): void {
  run(); // warm-up
  const started = performance.now();
  const account = run();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(44)} ${Math.round(EVENT_COUNT / seconds).toLocaleString('en').padStart(12)} events/s  (balance ${account.balance})`);
}

async function main(): Promise<void> {
  const model = aggregateModelOf(BenchAccount);
  const instances = Array.from({ length: EVENT_COUNT }, (_, i) => eventAt(i));
  const stored: StoredEvent[] = instances.map((event, i) => {
    const { eventType, eventData, schemaVersion } = serializeEvent(event);
    return {
      eventId: `e${i}`,
      entityType: 'BenchAccount',
      entityId: 'a',
      entityVersion: i + 1,
      eventType,
      eventData,
      metadata: { schemaVersion },
      createdAt: new Date(0).toISOString(),
    };
  });

  console.log(`replaying ${EVENT_COUNT.toLocaleString('en')} events into one aggregate`);
  measure('dispatch only (instances, map lookup + call)', () => {
    const account = new BenchAccount();
    applyNewEvents(model, account, instances);
    return account;
  });
  measure('deserialize + dispatch (stored JSON)', () => {
    const account = new BenchAccount();
    applyStoredEvents(model, account, stored);
    return account;
  });

  const store = new InMemoryEventStore();
  const accounts = new AggregateRepository(BenchAccount, store);
  const { entityId, entityVersion: first } = await accounts.save(new Open());
  let version = first;
  for (let offset = 0; offset < EVENT_COUNT; offset += 1000) {
    const batch = stored.slice(offset, offset + 1000).map(({ eventType, eventData, metadata }) => ({ eventType, eventData, metadata }));
    ({ entityVersion: version } = await store.append({ entityType: 'BenchAccount', entityId, expectedVersion: version, events: batch }));
  }
  const started = performance.now();
  const { entity } = await accounts.find(entityId);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${'repository.find on InMemoryEventStore'.padEnd(44)} ${Math.round(EVENT_COUNT / seconds).toLocaleString('en').padStart(12)} events/s  (balance ${entity.balance})`);
  await store.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
