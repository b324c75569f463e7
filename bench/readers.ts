/**
 * Feed readers against writers: 16 writers append alone, then while 1,000 SSE streams and 1,000
 * waiting long polls, each filtered to an entity type nobody writes, and 10 streams on every type
 * are open, then alone again, for BENCH_ROUNDS rounds. Prints the rates and their ratio (the
 * target: readers cost writers at most 10%), and checks that each full stream received every event
 * written while it was open once, in feed order (by eventId, against a plain read of the feed).
 * Run: npm run bench -- readers [--scale 0.25]   (--scale multiplies the 2,000 idle readers, for
 * machines that cannot hold that many sockets; DATABASE_URL to use your own PostgreSQL)
 */
import { Agent, request, ClientRequest } from 'node:http';
import { benchDatabase, report, requestJson, runFor, startServerProcess } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITERS = 16;
const FULL_STREAMS = 10;
const scaleFlag = process.argv.indexOf('--scale');
const SCALE = scaleFlag >= 0 ? Number(process.argv[scaleFlag + 1]) : 1;
if (!(SCALE > 0 && SCALE <= 1)) throw new Error('--scale takes a number above 0, at most 1');
const IDLE_STREAMS = Math.round(1000 * SCALE);
const IDLE_POLLS = Math.round(1000 * SCALE);
/** Readers connect this many at a time, so the server's accept backlog never overflows. */
const CONNECT_BATCH = 50;
/** How long the full streams may take, after the writers stop, to deliver the last events. */
const DRAIN_TIMEOUT_MS = 120_000;

/** An SSE connection that keeps the eventIds it receives (or only counts them). */
class FeedStream {
  readonly eventIds: string[] = [];
  errors: string[] = [];
  status?: number;
  private buffer = '';
  private readonly req: ClientRequest;
  readonly opened: Promise<void>;

  constructor(url: string) {
    let opened!: () => void;
    let failed!: (err: Error) => void;
    this.opened = new Promise((resolve, reject) => ((opened = resolve), (failed = reject)));
    this.req = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      this.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.receive(chunk));
      res.on('error', () => undefined);
      opened();
    });
    this.req.on('error', (err) => {
      this.errors.push(err.message);
      failed(err);
    });
    this.req.end();
  }

  close(): void {
    this.req.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let from = 0;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n', from)) >= 0) {
      const block = this.buffer.slice(from, end);
      from = end + 2;
      if (block.startsWith('event: error')) {
        this.errors.push(block);
        continue;
      }
      // Only the eventId, found without parsing the whole event (it is the event's first member): the
      // load generator shares the machine with the server, so it spends as little as it can.
      const at = block.indexOf('"eventId":"');
      if (at >= 0) this.eventIds.push(block.slice(at + 11, block.indexOf('"', at + 11)));
    }
    this.buffer = this.buffer.slice(from);
  }
}

interface Writer {
  entityId: string;
  version: number;
}

async function post(url: string, body: unknown): Promise<any> {
  const answer = await requestJson('POST', url, body);
  if (answer.status >= 300) throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** What the server process counts, from its /metrics. */
async function serverCounters(url: string): Promise<{ cpuSeconds: number; tailReads: number; catchUpReads: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    request(`${url}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
  // Zero where the server has no such metric (before the feed tail).
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    cpuSeconds: value('eventuate_process_cpu_seconds_total'),
    tailReads: value('eventuate_feed_tail_reads'),
    catchUpReads: value('eventuate_feed_catch_up_reads'),
  };
}

interface Measured {
  rate: number;
  appended: number;
  /** CPU time of the server process per append: steadier than the rate on a machine shared with other work. */
  cpuMsPerAppend: number;
  tailReadsPerSecond: number;
  catchUpReadsPerSecond: number;
}

async function measureAppends(url: string, writers: Writer[]): Promise<Measured> {
  const before = await serverCounters(url);
  const appended = await runFor(SECONDS, WRITERS, async (w) => {
    const writer = writers[w];
    const result = await post(`${url}/entity/BenchWritten/${writer.entityId}`, {
      entityVersion: writer.version,
      events: [{ eventType: 'Deposited', eventData: { amount: 1, note: 'bench' } }],
    });
    writer.version = result.entityVersion;
  });
  const after = await serverCounters(url);
  return {
    rate: appended / SECONDS,
    appended,
    cpuMsPerAppend: (1000 * (after.cpuSeconds - before.cpuSeconds)) / appended,
    tailReadsPerSecond: (after.tailReads - before.tailReads) / SECONDS,
    catchUpReadsPerSecond: (after.catchUpReads - before.catchUpReads) / SECONDS,
  };
}

function reportMeasured(label: string, m: Measured, withReads = false): void {
  const reads = withReads ? `; feed reads/s: ${m.tailReadsPerSecond.toFixed(0)} by the tail, ${m.catchUpReadsPerSecond.toFixed(0)} catching up` : '';
  report(label, m.rate, 'appends/s', `(server CPU ${m.cpuMsPerAppend.toFixed(2)} ms per append${reads})`);
}

/** Every event after `after`, by plain reads (no waiting): the reference order. */
async function readAll(url: string, after: string): Promise<{ eventIds: string[]; cursor: string }> {
  const eventIds: string[] = [];
  let cursor = after;
  for (;;) {
    const { status, body } = await requestJson('GET', `${url}/events?after=${cursor}&limit=1000`);
    if (status !== 200) throw new Error(`GET /events: ${status} ${JSON.stringify(body)}`);
    eventIds.push(...body.events.map((e: any) => e.eventId));
    if (body.events.length === 0) return { eventIds, cursor };
    cursor = body.cursor;
  }
}

async function inBatches<T>(count: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const opened: T[] = [];
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    opened.push(...(await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - i) }, (_, j) => open(i + j)))));
  }
  return opened;
}

/** Long polls filtered to a type nobody writes, each asked again as soon as it answers. */
function idlePolls(url: string, after: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const stats = { answers: 0, withEvents: 0, refused: 0, failures: [] as string[] };
  let stopped = false;
  const loops = Array.from({ length: IDLE_POLLS }, async (_, i) => {
    let cursor = after;
    while (!stopped) {
      try {
        const { status, body } = await requestJson('GET', `${url}/events?after=${cursor}&entityTypes=BenchIdlePoll${i}&waitMs=30000`, undefined, agent);
        if (status === 429) stats.refused++;
        else if (status !== 200) stats.failures.push(`${status} ${JSON.stringify(body)}`);
        else {
          stats.answers++;
          if (body.events.length > 0) stats.withEvents++;
          cursor = body.cursor;
        }
        if (status !== 200) await new Promise((r) => setTimeout(r, 1000));
      } catch (err) {
        if (!stopped) stats.failures.push((err as Error).message);
      }
    }
  });
  return {
    stats,
    stop: async () => {
      stopped = true;
      agent.destroy();
      await Promise.all(loops);
    },
  };
}

interface ReaderRound {
  measured: Measured;
  /** Problems found in what the readers received; empty when every check held. */
  problems: string[];
}

/** Opens the readers at the end of the feed, runs the writers, checks what the readers got, closes them. */
async function roundWithReaders(url: string, writers: Writer[]): Promise<ReaderRound> {
  const { cursor: start } = await readAll(url, '');
  const full = await inBatches(FULL_STREAMS, async () => {
    const stream = new FeedStream(`${url}/events/stream?after=${start}`);
    await stream.opened;
    return stream;
  });
  const idle = await inBatches(IDLE_STREAMS, async (i) => {
    const stream = new FeedStream(`${url}/events/stream?after=${start}&entityTypes=BenchIdleStream${i}`);
    await stream.opened;
    return stream;
  });
  const polls = idlePolls(url, start);
  const problems: string[] = [];
  try {
    // Let every reader reach the tail and start waiting before the writers begin.
    await new Promise((r) => setTimeout(r, 3000));
    const during = await measureAppends(url, writers);

    const reference = await readAll(url, start);
    const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    while (full.some((s) => s.eventIds.length < reference.eventIds.length) && Date.now() < drainUntil) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const expected = reference.eventIds.join(',');
    const complete = full.filter((s) => s.eventIds.length === reference.eventIds.length && s.eventIds.join(',') === expected).length;
    if (reference.eventIds.length !== during.appended) problems.push(`${during.appended} events written, ${reference.eventIds.length} read back`);
    if (complete < FULL_STREAMS) problems.push(`full streams complete and in order: ${complete} of ${FULL_STREAMS} (received: ${full.map((s) => s.eventIds.length).join(', ')} of ${reference.eventIds.length})`);
    const refused = [...full, ...idle].filter((s) => s.status !== 200).length;
    if (refused > 0) problems.push(`${refused} streams refused`);
    const unexpected = idle.filter((s) => s.eventIds.length > 0).length;
    if (unexpected > 0) problems.push(`${unexpected} idle streams received events`);
    const errors = [...full, ...idle].flatMap((s) => s.errors);
    if (errors.length > 0) problems.push(`${errors.length} stream errors, the first: ${errors[0]}`);
    if (polls.stats.withEvents > 0) problems.push(`${polls.stats.withEvents} idle long polls answered with events`);
    if (polls.stats.refused + polls.stats.failures.length > 0) {
      problems.push(`idle long polls: ${polls.stats.refused} refused, ${polls.stats.failures.length} failed${polls.stats.failures.length ? `, the first: ${polls.stats.failures[0]}` : ''}`);
    }
    return { measured: during, problems };
  } finally {
    await polls.stop();
    [...full, ...idle].forEach((s) => s.close());
    // Let the server see the readers leave before the next measurement.
    await new Promise((r) => setTimeout(r, 3000));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function readers(): Promise<void> {
  const db = await benchDatabase();
  const server = await startServerProcess({
    DATABASE_URL: db.connectionString,
    EVENTUATE_SCHEMA: `bench_readers_${Date.now()}`,
    EVENTUATE_FEED_MAX_STREAMS: String(IDLE_STREAMS + FULL_STREAMS + 100),
    EVENTUATE_FEED_MAX_LONG_POLLS: String(IDLE_POLLS + 100),
  });
  const url = server.url;
  try {
    const writers: Writer[] = [];
    for (let w = 0; w < WRITERS; w++) {
      const created = await post(`${url}/entity/BenchWritten`, { events: [{ eventType: 'Opened', eventData: {} }] });
      writers.push({ entityId: created.entityId, version: created.entityVersion });
    }
    // Alone, with readers, alone, ...: each round's rate with readers is compared with the rates
    // alone just before and just after it, so that a machine whose load drifts compares like with like.
    const readerLabel = `${IDLE_STREAMS} idle streams + ${IDLE_POLLS} idle long polls + ${FULL_STREAMS} full streams`;
    // A first run warms the server and PostgreSQL up; it is not compared with anything.
    reportMeasured('16 writers, no readers (warm-up, not compared)', await measureAppends(url, writers));
    let alone = await measureAppends(url, writers);
    reportMeasured('16 writers, no readers', alone);
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const problems: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { measured, problems: found } = await roundWithReaders(url, writers);
      reportMeasured(`16 writers, ${readerLabel}`, measured, true);
      const aloneAfter = await measureAppends(url, writers);
      reportMeasured('16 writers, no readers', aloneAfter);
      ratios.push(measured.rate / ((alone.rate + aloneAfter.rate) / 2));
      cpuRatios.push(measured.cpuMsPerAppend / ((alone.cpuMsPerAppend + aloneAfter.cpuMsPerAppend) / 2));
      problems.push(...found.map((p) => `round ${round}: ${p}`));
      alone = aloneAfter;
    }
    report('ratio: with readers / without, median of the rounds', 100 * median(ratios), '%', `(rounds: ${ratios.map((r) => (100 * r).toFixed(0)).join(', ')}; target: at least 90%)`);
    report('server CPU per append: with readers / without, median', 100 * median(cpuRatios), '%', `(rounds: ${cpuRatios.map((r) => (100 * r).toFixed(0)).join(', ')})`);
    if (problems.length === 0) console.log(`every round: each of the ${FULL_STREAMS} full streams received every event once, in order; no idle reader received one`);
    for (const problem of problems) console.log(problem);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await server.stop();
    await db.stop();
  }
}

if (require.main === module) {
  readers().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
