import { connect } from 'node:net';
import { HttpEventStore } from '../../client/http-event-store';
import { createEntity, event, httpCall, serverFixture, ServerFixture } from './server-fixture';

/** Sends `text` as it is over a new connection and resolves with everything the server answered. */
function rawHttp(baseUrl: string, text: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}

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
    const res = await f.call('DELETE', '/entity/Account/a-1');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ error: 'not_found', status: 404 });
  });

  it('reports not ready when an injected readiness check fails', async () => {
    const g = await serverFixture({
      readiness: async () => {
        throw new Error('kafka is unreachable');
      },
    });
    try {
      const res = await g.call('GET', '/ready');
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'service_unavailable', detail: expect.stringContaining('kafka is unreachable') });
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
    for (const path of ['/types', '/events', '/metrics', '/openapi.json', '/docs', '/nowhere']) {
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
