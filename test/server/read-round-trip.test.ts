import type { StoredEvent } from '../../src/model';
import { serverFixture, ServerFixture } from './server-fixture';
import { SseClient } from './sse-client';

/**
 * Values go in through append (in process and over HTTP) and come back out of every read, in
 * process (objects) and over HTTP (the JSON text passed through): the same values, as JSON has them
 * (-0 is 0, integer-like keys first). Nothing a read does may change a stored value.
 */

const nested = (depth: number): unknown => (depth === 0 ? { bottom: [1, 'x', null] } : { d: [nested(depth - 1)] });

const TRICKY = {
  numbers: [2 ** 53, 2 ** 60, -(2 ** 64), 1e21, 1.7976931348623157e308, 5e-324, 1e-7, 123456789.125, 0.1, 0.30000000000000004, -0, 1, -1.5],
  keys: { '10': 'a', '2': 'b', z: 1, a: 2, '': 3, '01': 'leading zero', '4294967295': 'past the last index', '4294967294': 'last index' },
  unicode: ['é', '\u2028\u2029', '😀', 'ü̈', '中文', '\u00a0'],
  escapes: ['"', '\\', '\\"', 'ends in \\', '\n\r\t\b\f', '\u0001\u001f\u007f', '/', '</script>'],
  separators: ['a, b: c', ' ', '": "', '", "', '{"x": 1}'],
  empty: { o: {}, a: [], s: '', nested: [[], [{}], {}] },
  literals: [true, false, null],
  deep: nested(40),
};
/** What every read must give back: the value as JSON holds it. */
const AS_JSON = JSON.parse(JSON.stringify(TRICKY));

describe('values through append and every read, in process and over HTTP', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
    // In process: JavaScript values, through JSON.stringify into jsonb.
    await f.store.create({ entityType: 'Trip', entityId: 'in-process', events: [{ eventType: 'Tricky', eventData: TRICKY, metadata: { m: TRICKY } }] });
    await f.store.append({
      entityType: 'Trip',
      entityId: 'in-process',
      expectedVersion: 1,
      events: [{ eventType: 'Tricky', eventData: TRICKY }],
      snapshot: { snapshotType: 'Trip', snapshotData: TRICKY },
    });
    // Over HTTP: the body's text.
    const text = JSON.stringify(TRICKY);
    const created = await f.call('POST', '/entity/Trip', `{"entityId":"over-http","events":[{"eventType":"Tricky","eventData":${text},"metadata":{"m":${text}}}]}`, {
      'content-type': 'application/json',
    });
    expect(created.status).toBe(201);
    const appended = await f.call('POST', '/entity/Trip/over-http', `{"entityVersion":1,"events":[{"eventType":"Tricky","eventData":${text}}],"snapshot":{"snapshotType":"Trip","snapshotData":${text}}}`, {
      'content-type': 'application/json',
    });
    expect(appended.status).toBe(200);
  });
  afterAll(() => f?.close());

  /** Every event of the two entities carries TRICKY as data; the first ones carry it in metadata too. */
  const expectTricky = (events: Array<Pick<StoredEvent, 'eventData' | 'metadata' | 'entityVersion'>>, count: number) => {
    expect(events).toHaveLength(count);
    for (const event of events) {
      expect(event.eventData).toEqual(AS_JSON);
      expect(event.metadata).toEqual(event.entityVersion === 1 ? { m: AS_JSON } : {});
    }
  };

  it.each(['in-process', 'over-http'])('reads in process what was written %s', async (entityId) => {
    expectTricky((await f.store.load('Trip', entityId, { useSnapshot: false })).events, 2);
    const withSnapshot = await f.store.load('Trip', entityId);
    expect(withSnapshot.snapshot?.snapshotData).toEqual(AS_JSON);
    expectTricky((await f.store.history('Trip', entityId)).events, 2);
    const [first] = (await f.store.history('Trip', entityId)).events;
    expectTricky([await f.store.getEvent(first.eventId)], 1);
    expectTricky((await f.store.readFeed({ entityTypes: ['Trip'] })).events.filter((e) => e.entityId === entityId), 2);
  });

  it.each(['in-process', 'over-http'])('reads over HTTP what was written %s', async (entityId) => {
    expectTricky((await f.call('GET', `/entity/Trip/${entityId}?snapshot=false`)).json().events, 2);
    expect((await f.call('GET', `/entity/Trip/${entityId}`)).json().snapshot.snapshotData).toEqual(AS_JSON);
    const history = (await f.call('GET', `/entity/Trip/${entityId}/history`)).json();
    expectTricky(history.events, 2);
    expectTricky([(await f.call('GET', `/events/${history.events[0].eventId}`)).json()], 1);
    const ofEntity = (events: any[]) => events.filter((e) => e.entityId === entityId);
    expectTricky(ofEntity((await f.call('GET', '/events?entityTypes=Trip')).json().events), 2);
    // Through the feed tail (a long poll) and the stream, which hold the events' text.
    expectTricky(ofEntity((await f.call('GET', '/events?entityTypes=Trip&waitMs=1000')).json().events), 2);
    const sse = new SseClient(`${f.url}/events/stream`);
    try {
      await sse.until(() => sse.messages.length >= 4, 'four events');
      expectTricky(ofEntity(sse.messages.map((m) => JSON.parse(m.data))), 2);
    } finally {
      sse.close();
    }
  });

  it('keeps numbers as JavaScript wrote them: past 2^53 when a double holds them exactly, refused when it does not', async () => {
    const answer = (await f.call('GET', '/entity/Trip/over-http?snapshot=false')).text;
    // The text JSON.stringify gives for each number (1e+21, 5e-324, 1152921504606846976), not jsonb's (1000000000000000000000, 0.000…5).
    expect(answer).toContain(`"numbers":${JSON.stringify(AS_JSON.numbers)}`);
    const refused = await f.call('POST', '/entity/Trip', '{"entityId":"inexact","events":[{"eventType":"X","eventData":{"n":9007199254740993}}]}', {
      'content-type': 'application/json',
    });
    expect(refused.status).toBe(400);
  });
});
