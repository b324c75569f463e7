/**
 * Feed readers against writers: 16 writers append alone, then again while 1,000 SSE streams and
 * 1,000 waiting long polls, each filtered to an entity type nobody writes, and 10 streams on every
 * type are open; then alone once more. Prints both rates and their ratio (the target: readers cost
 * writers at most 10%), and checks that each full stream received every event written while it
 * was open once, in feed order (by eventId, against a plain read of the feed).
 * Run: npm run bench -- readers [--scale 0.25]   (--scale multiplies the 2,000 idle readers, for
 * machines that cannot hold that many sockets; DATABASE_URL to use your own PostgreSQL)
 */
import { Agent, request, ClientRequest } from 'node:http';
import { benchDatabase, report, requestJson, runFor, startServerProcess } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
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
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (block.startsWith('event: error')) this.errors.push(block);
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      if (data && !block.startsWith('event: error')) this.eventIds.push(JSON.parse(data.slice(6)).eventId);
    }
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

async function appendsPerSecond(url: string, writers: Writer[]): Promise<{ rate: number; appended: number }> {
  const appended = await runFor(SECONDS, WRITERS, async (w) => {
    const writer = writers[w];
    const result = await post(`${url}/entity/BenchWritten/${writer.entityId}`, {
      entityVersion: writer.version,
      events: [{ eventType: 'Deposited', eventData: { amount: 1, note: 'bench' } }],
    });
    writer.version = result.entityVersion;
  });
  return { rate: appended / SECONDS, appended };
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
    const before = await appendsPerSecond(url, writers);
    report('16 writers, no readers', before.rate, 'appends/s');

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
    // Let every reader reach the tail and start waiting before the writers begin.
    await new Promise((r) => setTimeout(r, 3000));
    const refusedStreams = [...full, ...idle].filter((s) => s.status !== 200).length;

    const during = await appendsPerSecond(url, writers);
    report(`16 writers, ${IDLE_STREAMS} idle streams + ${IDLE_POLLS} idle long polls + ${FULL_STREAMS} full streams`, during.rate, 'appends/s');

    const reference = await readAll(url, start);
    const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    while (full.some((s) => s.eventIds.length < reference.eventIds.length) && Date.now() < drainUntil) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const expected = reference.eventIds.join(',');
    const complete = full.filter((s) => s.eventIds.length === reference.eventIds.length && s.eventIds.join(',') === expected).length;
    const unexpected = idle.filter((s) => s.eventIds.length > 0).length;
    const streamErrors = [...full, ...idle].flatMap((s) => s.errors);
    await polls.stop();
    [...full, ...idle].forEach((s) => s.close());

    // Let the server settle after the readers left, then the yardstick again.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await appendsPerSecond(url, writers);
    report('16 writers, no readers (again, after the readers left)', after.rate, 'appends/s');

    const alone = (before.rate + after.rate) / 2;
    report('ratio: with readers / without (mean of both)', (100 * during.rate) / alone, '%', '(target: at least 90%)');
    console.log(`events written while the readers were open: ${during.appended}; read back by a plain read: ${reference.eventIds.length}`);
    console.log(`full streams with every one of them once, in order: ${complete} of ${FULL_STREAMS}` +
      (complete < FULL_STREAMS ? ` (received: ${full.map((s) => s.eventIds.length).join(', ')})` : ''));
    console.log(`idle streams that received an event: ${unexpected}; refused streams: ${refusedStreams}; stream errors: ${streamErrors.length}`);
    console.log(`idle long polls: ${polls.stats.answers} answers, ${polls.stats.withEvents} with events, ${polls.stats.refused} refused, ${polls.stats.failures.length} failures`);
    if (streamErrors.length) console.log(`first stream error: ${streamErrors[0]}`);
    if (polls.stats.failures.length) console.log(`first long-poll failure: ${polls.stats.failures[0]}`);
    if (reference.eventIds.length !== during.appended || complete < FULL_STREAMS || unexpected > 0) process.exitCode = 1;
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
