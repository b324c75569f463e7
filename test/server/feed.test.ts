import { InMemoryEventStore } from '../../src';
import { createEntity, event, readToEnd, serverFixture, ServerFixture } from './server-fixture';
import { SseClient } from './sse-client';

describe('the global feed over HTTP', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    // The fallback polls (the feed tail's and the store's) far above every wait below: only the
    // commit wake-up can answer in time. A database of its own: no other test file's transaction holds the horizon.
    f = await serverFixture({ heartbeatMs: 300, feedFallbackPollMs: 120_000 }, { ownDatabase: true, store: { feedFallbackPollMs: 120_000 } });
  });
  afterAll(() => f.close());

  const endCursor = async () => (await readToEnd(f)).cursor;

  it('reads events in order with cursors, and filters by entity type', async () => {
    const start = await endCursor();
    await createEntity(f, 'FeedA', 'a-1', 2);
    await createEntity(f, 'FeedB', 'b-1', 1);
    // A commit becomes readable once every older transaction of the cluster has ended: long-poll for it.
    const all = (await f.call('GET', `/events?after=${start}&waitMs=10000`)).json();
    if (all.events.length < 3) all.events.push(...(await f.call('GET', `/events?after=${all.cursor}&waitMs=10000`)).json().events);
    expect(all.events.map((e: any) => `${e.entityType}/${e.entityVersion}`)).toEqual(['FeedA/1', 'FeedA/2', 'FeedB/1']);

    const onlyB = (await f.call('GET', `/events?after=${start}&entityTypes=FeedB,Other`)).json();
    expect(onlyB.events.map((e: any) => e.entityType)).toEqual(['FeedB']);
    const paged = (await f.call('GET', `/events?after=${start}&limit=1`)).json();
    expect(paged.events).toHaveLength(1);
    expect(paged.cursor).toBe(all.events[0].cursor);
  });

  it('answers a long poll when an append commits, well before waitMs', async () => {
    const start = await endCursor();
    const poll = f.call('GET', `/events?after=${start}&waitMs=30000`);
    // Past the feed tail's first looks (a burst within about 1.3 s of its start): from here on only a
    // commit wakes it, the fallback poll being two minutes away.
    await new Promise((r) => setTimeout(r, 2500));
    const appendedAt = Date.now();
    await createEntity(f, 'Polled', 'p-1');
    const page = (await poll).json();
    expect(page.events.map((e: any) => e.entityId)).toEqual(['p-1']);
    expect(Date.now() - appendedAt).toBeLessThan(15_000);
  });

  it('answers 400 invalid_cursor to a cursor of another store, before any stream begins', async () => {
    const other = new InMemoryEventStore();
    await other.create({ entityType: 'Elsewhere', events: [event()] });
    const foreign = (await other.readFeed()).cursor;
    const polled = await f.call('GET', `/events?after=${foreign}&waitMs=10000`);
    expect(polled.status).toBe(400);
    expect(polled.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(polled.json()).toMatchObject({ error: 'invalid_cursor', status: 400, detail: expect.stringMatching(/another event store/) });
    const streams: Array<[string, Record<string, string>]> = [
      [`/events/stream?after=${foreign}`, {}],
      ['/events/stream', { 'last-event-id': foreign }],
    ];
    for (const [path, headers] of streams) {
      const streamed = await f.call('GET', path, undefined, headers);
      expect(streamed.status).toBe(400);
      expect(streamed.json()).toMatchObject({ error: 'invalid_cursor' });
    }
  });

  it('returns an empty page with the same cursor when nothing commits within waitMs', async () => {
    const start = await endCursor();
    const page = (await f.call('GET', `/events?after=${start}&waitMs=200`)).json();
    expect(page).toEqual({ events: [], cursor: start });
  });

  it('streams appended events as SSE with the cursor as id, and resumes after Last-Event-ID', async () => {
    const start = await endCursor();
    const stream = new SseClient(`${f.url}/events/stream?after=${start}`);
    try {
      await stream.until(() => stream.response !== undefined, 'the response');
      expect(stream.response!.statusCode).toBe(200);
      expect(stream.response!.headers['content-type']).toMatch(/^text\/event-stream/);
      await stream.until(() => stream.comments.includes('heartbeat'), 'a heartbeat on the idle stream');

      await createEntity(f, 'Streamed', 's-1', 2);
      await stream.until(() => stream.messages.length >= 2, 'two events');
      const [first, second] = stream.messages.map((m) => ({ id: m.id, event: JSON.parse(m.data) }));
      expect(first.event).toMatchObject({ entityType: 'Streamed', entityId: 's-1', entityVersion: 1 });
      expect(first.id).toBe(first.event.cursor);
      expect(second.id).toBe(second.event.cursor);

      await createEntity(f, 'Streamed', 's-2');
      await stream.until(() => stream.messages.length >= 3, 'the third event');
    } finally {
      stream.close();
    }

    // A reconnecting EventSource sends Last-Event-ID; it wins over ?after.
    const resumed = new SseClient(`${f.url}/events/stream?after=${start}`, { 'last-event-id': stream.messages[1].id! });
    try {
      await resumed.until(() => resumed.messages.length >= 1, 'the event after Last-Event-ID');
      expect(JSON.parse(resumed.messages[0].data)).toMatchObject({ entityId: 's-2', entityVersion: 1 });
    } finally {
      resumed.close();
    }
  });

  it('streams only the requested entity types', async () => {
    const start = await endCursor();
    const stream = new SseClient(`${f.url}/events/stream?after=${start}&entityTypes=Wanted`);
    try {
      await createEntity(f, 'Unwanted', 'x-1');
      await createEntity(f, 'Wanted', 'w-1');
      await stream.until(() => stream.messages.length >= 1, 'the wanted event');
      expect(stream.messages.map((m) => JSON.parse(m.data).entityType)).toEqual(['Wanted']);
    } finally {
      stream.close();
    }
  });

  it('keeps appends working while streams come and go', async () => {
    const streams = Array.from({ length: 5 }, () => new SseClient(`${f.url}/events/stream`));
    await Promise.all(streams.map((s) => s.until(() => s.response !== undefined, 'the response')));
    streams.forEach((s) => s.close());
    const res = await f.call('POST', '/entity/AfterStreams', { events: [event()] });
    expect(res.status).toBe(201);
  });
});
