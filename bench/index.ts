/**
 * npm run bench [-- name ... [--flag value ...]]: runs the benchmarks one after another, each in a
 * process of its own so that one's heap and connections do not weigh on the next. Figures, not
 * pass/fail. Arguments from the first `--flag` on are passed to every chosen benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const BENCHMARKS: Record<string, { file: string; what: string }> = {
  append: { file: 'append-throughput.ts', what: 'append throughput over HTTP vs bare PostgreSQL' },
  find: { file: 'find.ts', what: 'AggregateRepository.find on a 1,000-event entity' },
  load: { file: 'load.ts', what: 'loading a 1,000-event entity in process and over HTTP, and their ratio' },
  replay: { file: 'replay.ts', what: 'replaying 100,000 events into an aggregate' },
  relay: { file: 'relay-latency.ts', what: 'append-to-handler latency through the relay and Kafka' },
  'relay-legs': { file: 'relay-legs.ts', what: 'append-to-handler latency split into its legs (commit, relay read, Kafka ack, handler), and relay burst throughput' },
  'feed-stall': { file: 'feed-stall.ts', what: "append-to-feed delay while another database's transaction stays open" },
  projection: { file: 'projection.ts', what: 'projection into a PostgreSQL view from the feed, and its rebuild, vs the view rows written directly' },
  saga: { file: 'saga.ts', what: 'three-step orchestrated sagas, participants in another process, over the feed and over Kafka: sagas/s and p50/p99, against sequential appends' },
  scale: { file: 'scale.ts', what: 'append rate and cold loads with 0, 1 million and 10 million events stored, v4 against v7 event ids' },
  readers: { file: 'readers.ts', what: 'appends while 2,000 feed readers wait and 10 streams follow every event' },
};

const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
const chosen = names.length ? names : Object.keys(BENCHMARKS);
for (const name of chosen) {
  const bench = BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  const file = join(__dirname, bench.file);
  if (!existsSync(file)) {
    console.log(`\n# ${name}: ${bench.what} — not present, skipped`);
    continue;
  }
  console.log(`\n# ${name}: ${bench.what}`);
  const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', file, ...flags], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
