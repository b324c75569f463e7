/**
 * Loading a 1,000-event entity: PostgresEventStore.load in process against GET /entity/:type/:id
 * (the answer read and parsed, as HttpEventStore does), interleaved, medians of the same run and
 * their ratio (issue 13's target: HTTP at most 1.5× in process). Beside them, the same answer's
 * bytes from a bare node:http server that holds them ready: what moving and parsing the answer
 * costs the client whatever the server does (275 kB of JSON here), to tell the server's share.
 * Run: npm run bench -- load   (DATABASE_URL to use your own PostgreSQL; BENCH_ROUNDS, default 60)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PostgresEventStore } from '../src';
import { buildApp } from '../event-store-server';
import { benchDatabase, report, requestJson } from './support';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The answer's bytes, as the server sent them. */
async function httpBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export async function loadLatency(): Promise<void> {
  const db = await benchDatabase();
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: `bench_load_${Date.now()}` });
  const app = buildApp({ store, closeStore: false, defaultMetrics: false });
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const entityId = 'ledger-1';
    const entry = (i: number) => ({ eventType: 'EntryRecorded', eventData: { amount: i, note: `entry ${i}`, tags: ['a', 'b'], rate: 1.25 } });
    await store.create({ entityType: 'BenchLedger', entityId, events: [{ eventType: 'LedgerOpened', eventData: {} }] });
    for (let version = 1; version < 1000; version += 111) {
      await store.append({ entityType: 'BenchLedger', entityId, expectedVersion: version, events: Array.from({ length: 111 }, (_, i) => entry(version + i)) });
    }
    const inProcess = () => store.load('BenchLedger', entityId);
    const overHttp = async () => {
      const res = await requestJson('GET', `${url}/entity/BenchLedger/${entityId}`);
      if (res.body.events.length !== 1000) throw new Error(`HTTP load gave ${res.body.events.length} events`);
    };
    const answer = await httpBytes(`${url}/entity/BenchLedger/${entityId}`);
    const bare = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer));
    await new Promise<void>((listening) => bare.listen(0, '127.0.0.1', listening));
    const fromBare = async () => {
      const res = await requestJson('GET', `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`);
      if (res.body.events.length !== 1000) throw new Error(`the bare server gave ${res.body.events.length} events`);
    };
    try {
      for (let i = 0; i < 5; i++) await Promise.all([inProcess(), overHttp(), fromBare()]); // warm-up
      const times = { inProcess: [] as number[], http: [] as number[], bare: [] as number[] };
      for (let i = 0; i < ROUNDS; i++) {
        times.inProcess.push(await timed(inProcess));
        times.http.push(await timed(overHttp));
        times.bare.push(await timed(fromBare));
      }
      const [a, b, c] = [median(times.inProcess), median(times.http), median(times.bare)];
      report('load 1,000 events, PostgresEventStore in process (median)', a, 'ms');
      report('load 1,000 events, HTTP GET + parse (median)', b, 'ms');
      report('the same answer from a bare server, GET + parse (median)', c, 'ms', `(${(answer.length / 1000).toFixed(0)} kB)`);
      report('HTTP / in process', b / a, '×', `(target ≤ 1.5; ${ROUNDS} interleaved rounds)`);
      report('HTTP - bare answer: the server\'s share', b - c, 'ms', `(${((b - c) / a).toFixed(2)}× in process)`);
    } finally {
      bare.close();
    }
  } finally {
    await app.close();
    await store.close();
    await db.stop();
  }
}

if (require.main === module) {
  loadLatency().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
