import { ServiceUnavailableError } from '../../src/errors';
import type { FeedPageText } from '../../src/stored-event-text';
import type { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import type { ServerStore } from '../../event-store-server/server-store';
import { createEntity, event, readToEnd, serverFixture, ServerFixture } from './server-fixture';
import { SseClient } from './sse-client';

/** Resolves once `predicate` holds, checking every 50 ms; fails naming `what` after `timeoutMs`. */
async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A value of the server's /metrics. */
async function metric(f: ServerFixture, name: string): Promise<number> {
  const text = (await f.call('GET', '/metrics')).text;
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`no metric ${name} in /metrics`);
  return Number(match[1]);
}

/** A client reading the feed by long polls, one after another, keeping every event it gets. */
function longPollReader(f: ServerFixture, after: string, options: { entityTypes?: string; limit: number; waitMs?: number }) {
  const events: any[] = [];
  const stop = new AbortController();
  let cursor = after;
  const done = (async () => {
    while (!stop.signal.aborted) {
      const query = `after=${cursor}&limit=${options.limit}&waitMs=${options.waitMs ?? 2000}${options.entityTypes ? `&entityTypes=${options.entityTypes}` : ''}`;
      let res: Response;
      try {
        res = await fetch(`${f.url}/events?${query}`, { signal: stop.signal });
      } catch (err) {
        if (stop.signal.aborted) return;
        throw err;
      }
      const body: any = await res.json();
      if (res.status !== 200) throw new Error(`long poll answered ${res.status}: ${JSON.stringify(body)}`);
      events.push(...body.events);
      cursor = body.cursor;
    }
  })();
  return {
    events,
    async stop() {
      stop.abort();
      await done;
    },
  };
}

const idsOf = (events: any[]) => events.map((e) => e.eventId);
const streamedIds = (stream: SseClient) => stream.messages.map((m) => JSON.parse(m.data).eventId);

/** `writers` clients at once, each creating an entity of `entityType(w)` and appending to it until it has `eventsEach` events. */
async function write(f: ServerFixture, writers: number, eventsEach: number, entityType: (writer: number) => string, eventData = {}): Promise<void> {
  const prefix = `w${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const type = entityType(w);
      const id = `${prefix}-${w}`;
      let version = (await createEntity(f, type, id)).entityVersion;
      while (version < eventsEach) {
        const count = Math.min(1 + (version % 3), eventsEach - version);
        const res = await f.call('POST', `/entity/${type}/${id}`, { entityVersion: version, events: Array.from({ length: count }, () => event('Happened', eventData)) });
        if (res.status !== 200) throw new Error(`append: ${res.status} ${res.text}`);
        version = res.json().entityVersion;
      }
    }),
  );
}

describe('the feed tail: many readers', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture({ heartbeatMs: 500 });
  });
  afterAll(() => f.close());

  it('gives every reader, streaming or long-polling, filtered or not, every event of its types once and in order while writers write', async () => {
    const start = (await readToEnd(f)).cursor;
    const streams = [undefined, undefined, 'ManyA', 'ManyA', 'ManyB', 'ManyA,ManyB'].map(
      (types) => ({ types, client: new SseClient(`${f.url}/events/stream?after=${start}${types ? `&entityTypes=${types}` : ''}`) }),
    );
    const polls = [
      { types: undefined, limit: 7 },
      { types: undefined, limit: 100 },
      { types: 'ManyA', limit: 3 },
      { types: 'ManyB', limit: 50 },
    ].map(({ types, limit }) => ({ types, reader: longPollReader(f, start, { entityTypes: types, limit }) }));
    try {
      await Promise.all(streams.map(({ client }) => client.until(() => client.response?.statusCode === 200, 'the stream')));
      await write(f, 6, 40, (w) => (w % 2 === 0 ? 'ManyA' : 'ManyB'));

      const all = (await readToEnd(f, start)).events;
      expect(all).toHaveLength(240);
      const expected = (types?: string) => idsOf(types ? all.filter((e) => types.split(',').includes(e.entityType)) : all);
      for (const { types, client } of streams) {
        await client.until(() => client.messages.length >= expected(types).length, `${expected(types).length} events on a stream of ${types ?? 'every type'}`);
        expect(streamedIds(client)).toEqual(expected(types));
        expect(client.messages.map((m) => m.id)).toEqual(client.messages.map((m) => JSON.parse(m.data).cursor));
      }
      for (const { types, reader } of polls) {
        await until(() => reader.events.length >= expected(types).length, `${expected(types).length} events by long polls of ${types ?? 'every type'}`);
        expect(idsOf(reader.events)).toEqual(expected(types));
      }
    } finally {
      streams.forEach(({ client }) => client.close());
      await Promise.all(polls.map(({ reader }) => reader.stop()));
    }
  });
});

describe('the feed tail: readers behind it', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    // A window of 20 events, so that readers fall behind it easily and read the store themselves.
    f = await serverFixture({ heartbeatMs: 500, feedWindowEvents: 20 });
  });
  afterAll(() => f.close());

  it('brings a reader that starts behind up to the tail and on with it, without a gap or a repeat', async () => {
    const start = (await readToEnd(f)).cursor;
    const live = new SseClient(`${f.url}/events/stream?after=${start}`);
    const late: Array<{ types?: string; events: () => any[]; stop: () => unknown }> = [];
    try {
      await write(f, 3, 50, () => 'BehindA');
      await live.until(() => live.messages.length >= 150, 'the first 150 events on the live stream');

      // Late readers start at the beginning, 150 events (7 windows) behind, while writers go on.
      const writing = write(f, 3, 50, (w) => (w === 0 ? 'BehindB' : 'BehindA'));
      const stream = new SseClient(`${f.url}/events/stream?after=${start}`);
      late.push({ events: () => stream.messages.map((m) => JSON.parse(m.data)), stop: () => stream.close() });
      for (const [types, limit] of [[undefined, 13], ['BehindA', 5], ['BehindB', 1000]] as const) {
        const reader = longPollReader(f, start, { entityTypes: types, limit });
        late.push({ types, events: () => reader.events, stop: () => reader.stop() });
      }
      await writing;
      const expected = async (types?: string) => idsOf((await readToEnd(f, start)).events.filter((e) => !types || e.entityType === types));
      for (const reader of late) {
        const ids = await expected(reader.types);
        await until(() => reader.events().length >= ids.length, `a late reader of ${reader.types ?? 'every type'} to catch up`);
        expect(idsOf(reader.events())).toEqual(ids);
      }

      // Caught up, they are served by the tail: further events, written one at a time, reach
      // every one of them with no read of the store but the tail's own.
      const catchUpReads = await metric(f, 'eventuate_feed_catch_up_reads');
      const tailReads = await metric(f, 'eventuate_feed_tail_reads');
      for (let i = 0; i < 5; i++) {
        await createEntity(f, 'BehindA', `joined-${i}`);
        await until(() => late.every((r) => r.types === 'BehindB' || r.events().some((e) => e.entityId === `joined-${i}`)), `joined-${i} everywhere`);
      }
      expect(await metric(f, 'eventuate_feed_catch_up_reads')).toBe(catchUpReads);
      expect(await metric(f, 'eventuate_feed_tail_reads')).toBeGreaterThan(tailReads);
      for (const reader of late) expect(idsOf(reader.events())).toEqual(await expected(reader.types));
    } finally {
      live.close();
      await Promise.all(late.map((r) => r.stop()));
    }
  });

  it('keeps a stalled stream from delaying the others, and later gives it everything, once and in order', async () => {
    const start = (await readToEnd(f)).cursor;
    const stalled = new SseClient(`${f.url}/events/stream?after=${start}`);
    const brisk = new SseClient(`${f.url}/events/stream?after=${start}`);
    try {
      await stalled.until(() => stalled.response !== undefined, 'the stalled stream to open');
      stalled.pause();
      // 200 events of 40 kB: 8 MB, more than the sockets' buffers hold, so the server cannot write the stalled stream's share.
      await write(f, 4, 50, () => 'Stalled', { padding: 'x'.repeat(40_000) });
      await brisk.until(() => brisk.messages.length >= 200, 'every event on the brisk stream', 60_000);
      expect(stalled.messages.length).toBeLessThan(200);

      stalled.resume();
      await stalled.until(() => stalled.messages.length >= 200, 'every event on the stalled stream once it reads again', 60_000);
      const all = idsOf((await readToEnd(f, start)).events);
      expect(all).toHaveLength(200);
      expect(streamedIds(brisk)).toEqual(all);
      expect(streamedIds(stalled)).toEqual(all);
    } finally {
      stalled.close();
      brisk.close();
    }
  });
});

describe('the feed tail: caps', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture({ heartbeatMs: 500, maxFeedStreams: 2, maxLongPolls: 1 });
  });
  afterAll(() => f.close());

  function expectTooManyRequests(res: Awaited<ReturnType<ServerFixture['call']>>, setting: string) {
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 429, error: 'too_many_requests', retryAfterSeconds: 5 });
    expect(res.json().detail).toContain(setting);
  }

  it('refuses a stream past the cap with 429 too_many_requests and Retry-After, and takes one again once a stream closes', async () => {
    const open = [new SseClient(`${f.url}/events/stream`), new SseClient(`${f.url}/events/stream`)];
    try {
      await Promise.all(open.map((s) => s.until(() => s.response?.statusCode === 200, 'an open stream')));
      expectTooManyRequests(await f.call('GET', '/events/stream'), 'EVENTUATE_FEED_MAX_STREAMS');
      open.shift()!.close();
      await until(async () => (await metric(f, 'eventuate_feed_streams_open')) === 1, 'the closed stream to give its slot back');
      const again = new SseClient(`${f.url}/events/stream`);
      open.push(again);
      await again.until(() => again.response !== undefined, 'an answer');
      expect(again.response!.statusCode).toBe(200);
    } finally {
      open.forEach((s) => s.close());
    }
  });

  it('refuses a long poll past the cap, and still answers reads that do not wait', async () => {
    const end = (await readToEnd(f)).cursor;
    const waiting = f.call('GET', `/events?after=${end}&waitMs=3000`);
    await until(async () => (await metric(f, 'eventuate_feed_long_polls_open')) === 1, 'the long poll to be under way');
    expectTooManyRequests(await f.call('GET', `/events?after=${end}&waitMs=1000`), 'EVENTUATE_FEED_MAX_LONG_POLLS');
    expect((await f.call('GET', `/events?after=${end}`)).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect((await f.call('GET', `/events?after=${end}&waitMs=10`)).status).toBe(200);
  });
});

describe('the feed tail: cost', () => {
  let f: ServerFixture;
  const reads = { tail: 0, catchUp: 0 };
  /** The store as the app sees it, counting every feed read that reaches PostgreSQL. */
  const counted = (store: PostgresEventStore): ServerStore =>
    new Proxy(store, {
      get(target, property) {
        // The server reads the feed through the store's JSON-text reads.
        if (property === 'jsonText') {
          return {
            ...target.jsonText,
            readFeed: (options: any) => (reads.tail++, target.jsonText.readFeed(options)),
            readFeedCatchUp: (options: any) => (reads.catchUp++, target.jsonText.readFeedCatchUp(options)),
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  beforeAll(async () => {
    f = await serverFixture({ heartbeatMs: 60_000, maxFeedStreams: 500, maxLongPolls: 500 }, { ownDatabase: true, serveStore: counted });
  });
  afterAll(() => f.close());

  it('reads the feed as often per commit with 200 idle readers waiting as with none', async () => {
    const follower = new SseClient(`${f.url}/events/stream?after=${(await readToEnd(f)).cursor}`);
    const idle: SseClient[] = [];
    const idlePolls = new AbortController();
    /** Feed reads of the store during 20 commits, one at a time, each awaited on the following stream. */
    const readsDuring20Commits = async (round: string) => {
      const before = reads.tail + reads.catchUp;
      for (let i = 0; i < 20; i++) {
        await createEntity(f, 'Costly', `${round}-${i}`);
        await follower.until(() => follower.messages.some((m) => JSON.parse(m.data).entityId === `${round}-${i}`), `${round}-${i}`);
      }
      return reads.tail + reads.catchUp - before;
    };
    try {
      await follower.until(() => follower.response?.statusCode === 200, 'the following stream');
      const alone = await readsDuring20Commits('alone');

      const tailCursor = (await readToEnd(f)).cursor;
      for (let i = 0; i < 100; i++) idle.push(new SseClient(`${f.url}/events/stream?after=${tailCursor}&entityTypes=NobodyWrites${i}`));
      const polls = Array.from({ length: 100 }, (_, i) =>
        fetch(`${f.url}/events?after=${tailCursor}&waitMs=30000&entityTypes=NobodyPolls${i}`, { signal: idlePolls.signal }).catch(() => undefined),
      );
      await until(() => idle.every((s) => s.response?.statusCode === 200), 'the idle streams');
      await until(async () => (await metric(f, 'eventuate_feed_readers_waiting')) >= 200, '200 idle readers waiting at the tail');

      const withIdleReaders = await readsDuring20Commits('crowded');
      // Each commit woke 200 readers; had each read the feed, that would be 4,000 reads.
      expect(withIdleReaders).toBeLessThan(200);
      expect(withIdleReaders).toBeLessThanOrEqual(2 * alone + 20);
      // The tail's own count, in /metrics, agrees (it may read between the two looks).
      const countedBefore = reads.tail;
      const reported = await metric(f, 'eventuate_feed_tail_reads');
      expect(reported).toBeGreaterThanOrEqual(countedBefore);
      expect(reported).toBeLessThanOrEqual(reads.tail);
      idlePolls.abort();
      await Promise.all(polls);
    } finally {
      follower.close();
      idle.forEach((s) => s.close());
      idlePolls.abort();
    }
  });
});

describe('the feed tail: a failed read', () => {
  let f: ServerFixture;
  let failNextTailRead = false;
  const failing = (store: PostgresEventStore): ServerStore =>
    new Proxy(store, {
      get(target, property) {
        // The tail reads the feed through the store's JSON-text reads.
        if (property === 'jsonText') {
          const readFeed = (options: any): Promise<FeedPageText> => {
            if (!failNextTailRead) return target.jsonText.readFeed(options);
            failNextTailRead = false;
            return Promise.reject(new ServiceUnavailableError('the event store database is unavailable: injected by the test'));
          };
          return { ...target.jsonText, readFeed };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  beforeAll(async () => {
    f = await serverFixture({ heartbeatMs: 500 }, { serveStore: failing });
  });
  afterAll(() => f.close());

  it('answers the waiting readers with the error, and the next reader starts the tail again', async () => {
    const end = (await readToEnd(f)).cursor;
    const waiting = f.call('GET', `/events?after=${end}&waitMs=20000`);
    await until(async () => (await metric(f, 'eventuate_feed_readers_waiting')) === 1, 'the long poll to wait at the tail');
    failNextTailRead = true;
    await createEntity(f, 'Failing', 'lost-read');
    const failed = await waiting;
    expect(failed.status).toBe(503);
    expect(failed.json().error).toBe('service_unavailable');

    const again = (await f.call('GET', `/events?after=${end}&waitMs=20000`)).json();
    expect(again.events.map((e: any) => e.entityId)).toEqual(['lost-read']);
  });
});
