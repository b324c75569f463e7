import { MAX_JSON_DEPTH } from '../../event-store-server/json-text';
import { serverFixture, ServerFixture, event } from './server-fixture';

/**
 * Every kind of bad request gets its documented status and code as problem+json,
 * and leaves the tables exactly as they were.
 */
const TYPE = 'Account';
const ID = 'acc-1';
const entityUrl = `/entity/${TYPE}/${ID}`;
const longName = 'a'.repeat(10_000);
const events1 = [event('Deposited', { amount: 1 })];

/** An append body whose total nesting, the body object included, is `depth` levels. */
function nestedEventData(depth: number): string {
  // body { events [ event { eventData { ... : the event data starts at level 4.
  const inner = depth - 4;
  return `{"entityVersion":2,"events":[{"eventType":"Deep","eventData":${'{"a":'.repeat(inner)}{}${'}'.repeat(inner)}}]}`;
}

interface Case {
  name: string;
  method?: string;
  path: string;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  contentType?: string;
  status: number;
  error: string;
  /** Extra members expected in the problem. */
  expect?: Record<string, unknown>;
}

const cases: Case[] = [
  // Malformed bodies and content types
  { name: 'malformed JSON on create', path: `/entity/${TYPE}`, body: '{"events": [', contentType: 'application/json', status: 400, error: 'validation_error' },
  { name: 'malformed JSON on append', path: entityUrl, body: '{entityVersion: 1}', contentType: 'application/json', status: 400, error: 'validation_error' },
  { name: 'empty JSON body', path: entityUrl, body: '', contentType: 'application/json', status: 400, error: 'validation_error' },
  { name: 'JSON with __proto__', path: `/entity/${TYPE}`, body: '{"__proto__": {"x": 1}, "events": []}', contentType: 'application/json', status: 400, error: 'validation_error' },
  { name: 'text/plain body', path: `/entity/${TYPE}`, body: JSON.stringify({ events: events1 }), contentType: 'text/plain', status: 415, error: 'unsupported_media_type' },
  { name: 'form body', path: entityUrl, body: 'entityVersion=1', contentType: 'application/x-www-form-urlencoded', status: 415, error: 'unsupported_media_type' },
  { name: 'XML body', path: entityUrl, body: '<append/>', contentType: 'application/xml', status: 415, error: 'unsupported_media_type' },
  { name: 'JSON array body', path: `/entity/${TYPE}`, body: [events1], status: 400, error: 'validation_error' },
  { name: 'body declared UTF-16', path: entityUrl, body: Buffer.from(JSON.stringify({ entityVersion: 2, events: events1 }), 'utf16le'), contentType: 'application/json; charset=utf-16', status: 415, error: 'unsupported_media_type' },
  { name: 'body declared Latin-1', path: entityUrl, body: JSON.stringify({ entityVersion: 2, events: events1 }), contentType: 'application/json; charset=ISO-8859-1', status: 415, error: 'unsupported_media_type' },
  {
    name: 'bytes that are not UTF-8',
    path: entityUrl,
    body: Buffer.concat([Buffer.from('{"entityVersion":2,"events":[{"eventType":"X","eventData":{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}]}')]),
    contentType: 'application/json',
    status: 400,
    error: 'validation_error',
  },
  // Values JSON.parse would alter before any schema sees them
  ...[
    ['1e400 in eventData', '{"entityVersion":2,"events":[{"eventType":"X","eventData":{"n":1e400}}]}', 'body/events/0/eventData/n'],
    ['-1e-400 in eventData', '{"entityVersion":2,"events":[{"eventType":"X","eventData":{"list":[1,-1e-400]}}]}', 'body/events/0/eventData/list/1'],
    ['2^53+1 in metadata', '{"entityVersion":2,"events":[{"eventType":"X","eventData":{},"metadata":{"id":9007199254740993}}]}', 'body/events/0/metadata/id'],
    ['18 digits of fraction', '{"entityVersion":2,"events":[{"eventType":"X","eventData":{"p":1.00000000000000001}}]}', 'body/events/0/eventData/p'],
    ['an entityVersion of 1e400', '{"entityVersion":1e400,"events":[{"eventType":"X","eventData":{}}]}', 'body/entityVersion'],
    ['a snapshot value of 2^64', '{"entityVersion":2,"snapshotType":"S","snapshotData":{"n":18446744073709551616}}', 'body/snapshotData/n'],
    ['a key repeated in eventData', '{"entityVersion":2,"events":[{"eventType":"X","eventData":{"amount":1,"amount":100}}]}', 'body/events/0/eventData/amount'],
  ].map(([name, body, field]) => ({
    name,
    path: name.startsWith('a snapshot') ? `${entityUrl}/snapshots` : entityUrl,
    body,
    contentType: 'application/json',
    status: 400,
    error: 'validation_error',
    expect: { field },
  })),
  {
    name: 'JSON nested 4,100 levels deep',
    path: entityUrl,
    body: `{"entityVersion":2,"events":[{"eventType":"X","eventData":${'{"a":'.repeat(4100)}1${'}'.repeat(4100)}}]}`,
    contentType: 'application/json',
    status: 400,
    error: 'validation_error',
  },
  {
    name: `JSON one level deeper than ${MAX_JSON_DEPTH}`,
    path: entityUrl,
    body: nestedEventData(MAX_JSON_DEPTH + 1),
    contentType: 'application/json',
    status: 400,
    error: 'validation_error',
  },
  // Missing and mistyped fields
  { name: 'create without events', path: `/entity/${TYPE}`, body: {}, status: 400, error: 'validation_error' },
  { name: 'append without entityVersion', path: entityUrl, body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: 'append without events', path: entityUrl, body: { entityVersion: 1 }, status: 400, error: 'validation_error' },
  { name: 'event without eventData', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 'X' }] }, status: 400, error: 'validation_error' },
  { name: 'event without eventType', path: entityUrl, body: { entityVersion: 1, events: [{ eventData: {} }] }, status: 400, error: 'validation_error' },
  { name: 'events is a string', path: entityUrl, body: { entityVersion: 1, events: 'x' }, status: 400, error: 'validation_error' },
  { name: 'events is an object', path: entityUrl, body: { entityVersion: 1, events: { eventType: 'X', eventData: {} } }, status: 400, error: 'validation_error' },
  { name: 'eventData is a string', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 'X', eventData: 'x' }] }, status: 400, error: 'validation_error' },
  { name: 'eventData is an array', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 'X', eventData: [] }] }, status: 400, error: 'validation_error' },
  { name: 'eventData is null', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 'X', eventData: null }] }, status: 400, error: 'validation_error' },
  { name: 'metadata is an array', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 'X', eventData: {}, metadata: [] }] }, status: 400, error: 'validation_error' },
  { name: 'eventType is a number', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: 5, eventData: {} }] }, status: 400, error: 'validation_error' },
  { name: 'eventType is a boolean', path: entityUrl, body: { entityVersion: 1, events: [{ eventType: true, eventData: {} }] }, status: 400, error: 'validation_error' },
  { name: 'eventId is not a UUID', path: entityUrl, body: { entityVersion: 1, events: [{ eventId: 'abc', eventType: 'X', eventData: {} }] }, status: 400, error: 'validation_error' },
  { name: 'triggeringEventToken is a number', path: entityUrl, body: { entityVersion: 1, events: events1, triggeringEventToken: 5 }, status: 400, error: 'validation_error' },
  { name: 'snapshot is a string', path: entityUrl, body: { entityVersion: 1, events: events1, snapshot: 'x' }, status: 400, error: 'validation_error' },
  { name: 'entityId in body is a number', path: `/entity/${TYPE}`, body: { entityId: 7, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'snapshot without snapshotData', path: `${entityUrl}/snapshots`, body: { entityVersion: 1, snapshotType: 'S' }, status: 400, error: 'validation_error' },
  // Versions
  { name: 'negative version', path: entityUrl, body: { entityVersion: -1, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'version 0 on append', path: entityUrl, body: { entityVersion: 0, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'fractional version', path: entityUrl, body: { entityVersion: 1.5, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'version as a string', path: entityUrl, body: { entityVersion: '1', events: events1 }, status: 400, error: 'validation_error' },
  { name: 'version beyond int4', path: entityUrl, body: { entityVersion: 2 ** 31, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'version null', path: entityUrl, body: { entityVersion: null, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'negative snapshot version', path: `${entityUrl}/snapshots`, body: { entityVersion: -3, snapshotType: 'S', snapshotData: {} }, status: 400, error: 'validation_error' },
  // Event counts
  { name: 'zero events on create', path: `/entity/${TYPE}`, body: { events: [] }, status: 400, error: 'validation_error' },
  { name: 'zero events on append', path: entityUrl, body: { entityVersion: 1, events: [] }, status: 400, error: 'validation_error' },
  { name: '1001 events', path: entityUrl, body: { entityVersion: 1, events: Array.from({ length: 1001 }, () => event()) }, status: 400, error: 'validation_error' },
  // Names outside the patterns, in the path and in the body
  { name: 'entityType with a quote', path: `/entity/${encodeURIComponent(`Acc"ount`)}`, body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: "entityType with ';--", path: `/entity/${encodeURIComponent("Account';--")}`, body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: 'entityType with NUL', path: '/entity/Acc%00ount', body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: '10 kB entityType', path: `/entity/${longName}`, body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: 'entityType starting with a digit', path: '/entity/1Account', body: { events: events1 }, status: 400, error: 'validation_error' },
  { name: 'entityId with a quote', path: `/entity/${TYPE}/${encodeURIComponent("acc'1")}`, body: { entityVersion: 1, events: events1 }, status: 400, error: 'validation_error' },
  { name: "entityId with ;--", path: `/entity/${TYPE}/${encodeURIComponent('x;--')}`, body: { entityVersion: 1, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'entityId with NUL', path: `/entity/${TYPE}/acc%00`, body: { entityVersion: 1, events: events1 }, status: 400, error: 'validation_error' },
  { name: '10 kB entityId', path: `/entity/${TYPE}/${longName}`, body: { entityVersion: 1, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'entityId in body with ;--', path: `/entity/${TYPE}`, body: { entityId: "x';--", events: events1 }, status: 400, error: 'validation_error' },
  { name: '10 kB entityId in body', path: `/entity/${TYPE}`, body: { entityId: longName, events: events1 }, status: 400, error: 'validation_error' },
  { name: 'eventType with a quote', path: entityUrl, body: { entityVersion: 1, events: [event(`Dep"osited`)] }, status: 400, error: 'validation_error' },
  { name: "eventType with ';--", path: entityUrl, body: { entityVersion: 1, events: [event("X';--")] }, status: 400, error: 'validation_error' },
  { name: 'eventType with NUL', path: entityUrl, body: { entityVersion: 1, events: [event('X\u0000')] }, status: 400, error: 'validation_error' },
  { name: '10 kB eventType', path: entityUrl, body: { entityVersion: 1, events: [event(longName)] }, status: 400, error: 'validation_error' },
  { name: 'NUL inside eventData', path: entityUrl, body: { entityVersion: 1, events: [event('X', { s: 'a\u0000b' })] }, status: 400, error: 'validation_error' },
  { name: 'snapshotType with ;--', path: `${entityUrl}/snapshots`, body: { entityVersion: 1, snapshotType: "S';--", snapshotData: {} }, status: 400, error: 'validation_error' },
  { name: 'triggering token of 10 kB', path: entityUrl, body: { entityVersion: 1, events: events1, triggeringEventToken: longName }, status: 400, error: 'validation_error' },
  // Query parameters
  { name: 'toVersion negative', method: 'GET', path: `${entityUrl}?toVersion=-1`, status: 400, error: 'validation_error' },
  { name: 'toVersion not a number', method: 'GET', path: `${entityUrl}?toVersion=abc`, status: 400, error: 'validation_error' },
  { name: 'toVersion fractional', method: 'GET', path: `${entityUrl}?toVersion=1.5`, status: 400, error: 'validation_error' },
  { name: 'asOf not a date', method: 'GET', path: `${entityUrl}?asOf=yesterday`, status: 400, error: 'validation_error' },
  { name: 'history limit 0', method: 'GET', path: `${entityUrl}/history?limit=0`, status: 400, error: 'validation_error' },
  { name: 'history limit 1001', method: 'GET', path: `${entityUrl}/history?limit=1001`, status: 400, error: 'validation_error' },
  { name: 'feed cursor garbage', method: 'GET', path: `/events?after=${encodeURIComponent("'; DROP TABLE events;--")}`, status: 400, error: 'invalid_cursor' },
  { name: 'feed waitMs too long', method: 'GET', path: '/events?waitMs=3600000', status: 400, error: 'validation_error' },
  { name: 'feed entityTypes with ;--', method: 'GET', path: `/events?entityTypes=${encodeURIComponent("A,B';--")}`, status: 400, error: 'validation_error' },
  { name: 'stream cursor garbage', method: 'GET', path: '/events/stream?after=nope', status: 400, error: 'invalid_cursor' },
  { name: 'list limit 1001', method: 'GET', path: `/entity/${TYPE}?limit=1001`, status: 400, error: 'validation_error' },
  // Numeric query parameters are decimal integers within their range; Ajv's coercion alone let `Infinity` through
  ...['Infinity', '-Infinity', 'NaN', '1e3', '0x10', '%205', '1.0', '%2B5', '99999999999999999999'].map((value) => ({
    name: `feed waitMs=${value}`,
    method: 'GET',
    path: `/events?waitMs=${value}`,
    status: 400,
    error: 'validation_error',
    expect: { field: 'querystring/waitMs' },
  })),
  { name: 'feed limit=Infinity', method: 'GET', path: '/events?limit=Infinity', status: 400, error: 'validation_error', expect: { field: 'querystring/limit' } },
  { name: 'feed waitMs twice', method: 'GET', path: '/events?waitMs=1&waitMs=2', status: 400, error: 'validation_error', expect: { field: 'querystring/waitMs' } },
  { name: 'toVersion=Infinity', method: 'GET', path: `${entityUrl}?toVersion=Infinity`, status: 400, error: 'validation_error', expect: { field: 'querystring/toVersion' } },
  { name: 'history fromVersion=1e0', method: 'GET', path: `${entityUrl}/history?fromVersion=1e0`, status: 400, error: 'validation_error', expect: { field: 'querystring/fromVersion' } },
  { name: 'list limit=-Infinity', method: 'GET', path: `/entity/${TYPE}?limit=-Infinity`, status: 400, error: 'validation_error', expect: { field: 'querystring/limit' } },
  // The store's refusals
  { name: 'append to an unknown entity', path: `/entity/${TYPE}/nobody`, body: { entityVersion: 1, events: events1 }, status: 404, error: 'entity_not_found' },
  { name: 'load an unknown entity', method: 'GET', path: `/entity/${TYPE}/nobody`, status: 404, error: 'entity_not_found' },
  { name: 'history of an unknown entity', method: 'GET', path: `/entity/${TYPE}/nobody/history`, status: 404, error: 'entity_not_found' },
  { name: 'snapshot of an unknown entity', path: `/entity/${TYPE}/nobody/snapshots`, body: { entityVersion: 1, snapshotType: 'S', snapshotData: {} }, status: 404, error: 'entity_not_found' },
  {
    name: 'stale version',
    path: entityUrl,
    body: { entityVersion: 1, events: events1 },
    status: 409,
    error: 'optimistic_lock_error',
    expect: { expectedVersion: 1, actualVersion: 2 },
  },
  { name: 'version ahead of the entity', path: entityUrl, body: { entityVersion: 7, events: events1 }, status: 409, error: 'optimistic_lock_error', expect: { expectedVersion: 7, actualVersion: 2 } },
  { name: 'create an existing id', path: `/entity/${TYPE}`, body: { entityId: ID, events: events1 }, status: 409, error: 'entity_exists' },
  { name: 'duplicate triggering token', path: entityUrl, body: { entityVersion: 2, events: events1, triggeringEventToken: 'transfer-1' }, status: 409, error: 'duplicate_event', expect: { entityVersion: 2 } },
  { name: 'snapshot beyond the current version', path: `${entityUrl}/snapshots`, body: { entityVersion: 9, snapshotType: 'S', snapshotData: {} }, status: 400, error: 'validation_error' },
  { name: 'unknown route', method: 'GET', path: '/entities', status: 404, error: 'not_found' },
];

describe('bad input over HTTP', () => {
  let f: ServerFixture;
  let before: Awaited<ReturnType<ServerFixture['tableCounts']>>;

  beforeAll(async () => {
    f = await serverFixture();
    // acc-1 at version 2, its second event carrying triggering token transfer-1
    expect((await f.call('POST', `/entity/${TYPE}`, { entityId: ID, events: events1 })).status).toBe(201);
    expect((await f.call('POST', entityUrl, { entityVersion: 1, events: events1, triggeringEventToken: 'transfer-1' })).status).toBe(200);
    before = await f.tableCounts();
  });
  afterAll(() => f.close());

  it.each(cases)('$name: $status $error, tables unchanged', async (c) => {
    const headers = c.contentType ? { 'content-type': c.contentType } : undefined;
    const res = await f.call(c.method ?? 'POST', c.path, c.body, headers);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect({ status: res.status, error: problem.error }).toEqual({ status: c.status, error: c.error });
    expect(problem).toMatchObject({ status: c.status, type: expect.any(String), title: expect.any(String), detail: expect.any(String), ...c.expect });
    // The problem never echoes a huge input back.
    expect(res.text.length).toBeLessThan(4000);
    expect(await f.tableCounts()).toEqual(before);
  });

  it('stores exactly every value a double holds, and takes the deepest nesting allowed', async () => {
    const data = '{"max":9007199254740991,"tenth":0.1,"sum":0.30000000000000004,"exp":1E+2,"negzero":-0,"tiny":5e-324,"huge":1.7976931348623157e308,"asText":"9007199254740993"}';
    const res = await f.call('POST', `/entity/${TYPE}`, `{"entityId":"exact-1","events":[{"eventType":"Exact","eventData":${data}}]}`, {
      'content-type': 'application/json; charset="UTF-8"',
    });
    expect(res.status).toBe(201);
    const stored = (await f.call('GET', `/entity/${TYPE}/exact-1`)).json().events[0].eventData;
    // -0 is the number 0 (JSON and PostgreSQL have one zero); toEqual alone would tell them apart.
    expect({ ...stored, negzero: stored.negzero === 0 }).toEqual({ ...JSON.parse(data), negzero: true });

    expect((await f.call('POST', `/entity/${TYPE}/exact-1`, nestedEventData(MAX_JSON_DEPTH).replace('"entityVersion":2', '"entityVersion":1'), { 'content-type': 'application/json' })).status).toBe(200);
    before = await f.tableCounts();
  });

  it('answers a body over the limit with 413 payload_too_large and writes nothing', async () => {
    const padding = 'x'.repeat(6 * 1024 * 1024);
    const res = await f.call('POST', entityUrl, { entityVersion: 2, events: [event('Big', { padding })] });
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large', status: 413 });
    expect(await f.tableCounts()).toEqual(before);
  });

  it('honours a configured body limit', async () => {
    const small = await serverFixture({ bodyLimit: 2048 });
    try {
      const res = await small.call('POST', `/entity/${TYPE}`, { events: [event('Big', { padding: 'x'.repeat(4096) })] });
      expect(res.status).toBe(413);
      expect(res.json().error).toBe('payload_too_large');
      expect(await small.tableCounts()).toEqual({ events: 0, entities: 0, snapshots: 0 });
    } finally {
      await small.close();
    }
  });
});
