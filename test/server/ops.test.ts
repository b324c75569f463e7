import { HttpEventStore } from '../../client/http-event-store';
import { ServiceUnavailableError } from '../../src/errors';
import { rawHttp } from './raw-http';
import { createEntity, event, httpCall, serverFixture, ServerFixture } from './server-fixture';

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('operations routes', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it('answers /health and /ready', async () => {
    expect((await f.call('GET', '/health')).json()).toEqual({ status: 'ok' });
    expect((await f.call('GET', '/ready')).json()).toEqual({ status: 'ready' });
  });

  it('moves the request, latency and appended-event metrics', async () => {
    const read = async () => (await f.call('GET', '/metrics')).text;
    const before = await read();
    await createEntity(f, 'Metered', 'm-1', 3);
    await f.call('POST', '/entity/Metered/m-1', { entityVersion: 1, events: [event()] }); // 409
    const after = await read();
    const created = { method: 'POST', route: '/entity/:entityType', status: '201' };
    expect(metricValue(after, 'eventuate_http_requests_total', created) - metricValue(before, 'eventuate_http_requests_total', created)).toBe(1);
    const conflict = { route: '/entity/:entityType/:entityId', status: '409' };
    expect(metricValue(after, 'eventuate_http_requests_total', conflict) - metricValue(before, 'eventuate_http_requests_total', conflict)).toBe(1);
    expect(metricValue(after, 'eventuate_http_request_duration_seconds_count', created)).toBeGreaterThanOrEqual(1);
    expect(metricValue(after, 'eventuate_appended_events_total', { entity_type: 'Metered' })).toBe(3);
  });

  it('keeps separate metrics per app in one process', async () => {
    const other = await serverFixture();
    try {
      await createEntity(other, 'Elsewhere', 'e-1');
      expect((await f.call('GET', '/metrics')).text).not.toContain('Elsewhere');
    } finally {
      await other.close();
    }
  });

  it('describes every route in /openapi.json and serves the docs page', async () => {
    const spec = (await f.call('GET', '/openapi.json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths).sort()).toEqual(
      [
        '/entity/{entityType}',
        '/entity/{entityType}/{entityId}',
        '/entity/{entityType}/{entityId}/history',
        '/entity/{entityType}/{entityId}/snapshots',
        '/events',
        '/events/stream',
        '/events/end',
        '/events/{eventId}',
        '/health',
        '/metrics',
        '/ready',
        '/types',
      ].sort(),
    );
    expect(Object.keys(spec.paths['/entity/{entityType}/{entityId}']).sort()).toEqual(['get', 'post']);
    const append = spec.paths['/entity/{entityType}/{entityId}'].post;
    expect(append.requestBody.content['application/json'].schema.required).toEqual(['entityVersion', 'events']);
    const docs = await f.call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
  });

  it('answers an unknown route with a problem', async () => {
    const res = await f.call('GET', '/entities/Account');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ error: 'not_found', status: 404 });
  });

  it('answers a method a route does not take with 405 and the methods it does', async () => {
    for (const [method, path, allowed] of [
      ['DELETE', '/entity/Account/a-1', 'GET, HEAD, POST'],
      ['PUT', '/entity/Account', 'GET, HEAD, POST'],
      ['POST', '/health', 'GET, HEAD'],
    ]) {
      const res = await f.call(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('allow')).toBe(allowed);
      expect(res.json()).toMatchObject({ error: 'method_not_allowed', status: 405 });
    }
  });

  it('reports not ready when a readiness check fails, without the words of its error', async () => {
    // A check's own error may name hosts and ports; /ready is open to anyone, so the detail stays generic and the log has the rest.
    const g = await serverFixture({
      readiness: async () => {
        throw new Error('connect ECONNREFUSED 10.1.2.3:9092');
      },
    });
    try {
      const res = await g.call('GET', '/ready');
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'service_unavailable', detail: expect.stringContaining('readiness check failed') });
      expect(res.text).not.toMatch(/10\.1\.2\.3|9092/);
    } finally {
      await g.close();
    }
  });

  it('says which component is not ready when its check speaks for callers', async () => {
    const g = await serverFixture({
      readiness: async () => {
        throw new ServiceUnavailableError('not ready: the event relay cannot publish to Kafka', {}, { cause: new Error('connect ECONNREFUSED 10.1.2.3:9092') });
      },
    });
    try {
      const res = await g.call('GET', '/ready');
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'service_unavailable', detail: 'not ready: the event relay cannot publish to Kafka' });
      expect(res.text).not.toMatch(/10\.1\.2\.3|9092/);
    } finally {
      await g.close();
    }
  });

  it('answers /ready within its deadline when a check hangs, and runs one check at a time', async () => {
    let started = 0;
    const g = await serverFixture({
      readyTimeoutMs: 300,
      readiness: () => {
        started += 1;
        return new Promise<void>(() => undefined); // never settles, like a query to a frozen database without timeouts
      },
    });
    try {
      const answers = await Promise.all([g.call('GET', '/ready'), g.call('GET', '/ready'), g.call('GET', '/ready')]);
      for (const res of answers) {
        expect(res.status).toBe(503);
        expect(res.json().detail).toMatch(/did not answer within 300 ms/);
      }
      expect(started).toBe(1);
    } finally {
      await g.close();
    }
  });
});

describe('API key auth', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture({ apiKeys: ['key-one', 'key-two'] });
  });
  afterAll(() => f.close());

  const body = { events: [event()] };

  it('refuses requests without a key, or with a wrong one, and writes nothing', async () => {
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'Basic a2V5LW9uZTo=' },
      { authorization: 'Bearer key-one-and-more' },
      { authorization: 'Bearer ' },
      { authorization: 'key-one' },
    ];
    for (const headers of wrong) {
      const res = await f.call('POST', '/entity/Secret', body, headers);
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'unauthorized', status: 401 });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    for (const path of ['/types', '/events', '/events/end', '/metrics', '/openapi.json', '/docs', '/nowhere']) {
      const res = await f.call('GET', path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(await f.tableCounts()).toEqual({ events: 0, entities: 0, snapshots: 0 });
  });

  it('accepts any configured key', async () => {
    expect((await f.call('POST', '/entity/Secret', body, { authorization: 'Bearer key-one' })).status).toBe(201);
    expect((await f.call('POST', '/entity/Secret', body, { authorization: 'bearer key-two' })).status).toBe(201);
    expect((await f.call('GET', '/types', undefined, { authorization: 'Bearer key-two' })).json().types).toEqual([
      { entityType: 'Secret', entityCount: 2, eventCount: 2 },
    ]);
  });

  it('refuses whitespace before the key rather than trimming it, naming the mistake', async () => {
    for (const authorization of ['Bearer  key-one', 'Bearer\tkey-one', 'Bearer key-one key-two']) {
      const res = await f.call('POST', '/entity/Secret', body, { authorization });
      expect(res.status).toBe(401);
      expect(res.json().detail).toMatch(/one space, and the key without whitespace/);
    }
    // Whitespace after the key ends the header, and HTTP strips it from every header value: the key itself arrives intact.
    const raw = await rawHttp(f.url, `GET /types HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer key-one \t\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('HttpEventStore refuses an apiKey with whitespace when it is built', () => {
    for (const apiKey of ['key-one\n', ' key-one', 'key one']) {
      expect(() => new HttpEventStore({ url: f.url, apiKey })).toThrow(/apiKey contains whitespace/);
    }
  });

  it('leaves /health and /ready open', async () => {
    expect((await f.call('GET', '/health')).status).toBe(200);
    expect((await f.call('GET', '/ready')).status).toBe(200);
  });

  it('is off without keys', async () => {
    const open = await serverFixture({ apiKeys: [] });
    try {
      expect((await httpCall(open.url, 'GET', '/types')).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
