/**
 * AggregateRepository.find on a 1,000-event entity, through PostgresEventStore in process and
 * through HttpEventStore against a server, with and without a snapshot.
 * Run: npm run bench -- find   (DATABASE_URL to use your own PostgreSQL)
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Aggregate, AggregateRepository, Apply, DomainEvent, EventStore, HttpEventStore, PostgresEventStore, Process } from '../client';
import { buildApp } from '../event-store-server';
import { benchDatabase, report } from './support';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);

class OpenLedger {}
class Record {
  constructor(public readonly count: number) {}
}

@DomainEvent('BenchLedgerOpened')
class LedgerOpened {}

@DomainEvent('BenchEntryRecorded')
class EntryRecorded {
  constructor(
    public amount: number,
    public note: string,
  ) {}
}

@Aggregate('BenchLedger', { snapshots: { every: 200 } })
class Ledger {
  total = 0;
  entries = 0;

  @Process(OpenLedger) open() {
    return [new LedgerOpened()];
  }

  @Process(Record) record(command: Record) {
    return Array.from({ length: command.count }, (_, i) => new EntryRecorded(i, `entry ${this.entries + i}`));
  }

  @Apply() opened(_event: LedgerOpened) {
    this.total = 0;
  }

  @Apply() recorded(event: EntryRecorded) {
    this.total += event.amount;
    this.entries += 1;
  }
}

async function timeFinds(label: string, store: EventStore, entityId: string, useSnapshot: boolean): Promise<void> {
  const ledgers = new AggregateRepository(Ledger, store);
  await ledgers.find(entityId, { useSnapshot }); // warm-up
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    const { entity } = await ledgers.find(entityId, { useSnapshot });
    if (entity.entries !== 999) throw new Error(`wrong state: ${entity.entries} entries`);
  }
  report(label, (performance.now() - started) / ROUNDS, 'ms each');
}

export async function findLatency(): Promise<void> {
  const db = await benchDatabase();
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: `bench_find_${Date.now()}` });
  const app = buildApp({ store, closeStore: false, defaultMetrics: false });
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const ledgers = new AggregateRepository(Ledger, store);
    const { entityId } = await ledgers.save(new OpenLedger());
    for (let written = 1; written < 1000; written += 111) await ledgers.update(entityId, new Record(111));
    const http = new HttpEventStore({ url });
    await timeFinds('find 1,000 events, PostgresEventStore, full replay', store, entityId, false);
    await timeFinds('find 1,000 events, PostgresEventStore, from snapshot', store, entityId, true);
    await timeFinds('find 1,000 events, HttpEventStore, full replay', http, entityId, false);
    await timeFinds('find 1,000 events, HttpEventStore, from snapshot', http, entityId, true);
  } finally {
    await app.close();
    await store.close();
    await db.stop();
  }
}

if (require.main === module) {
  findLatency().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
