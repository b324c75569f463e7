import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { CONSOLE_ASSETS_DIR } from '../../event-store-server/console/console-routes';
import { createEntity, serverFixture, ServerFixture } from '../server/server-fixture';

/** A request whose path is sent exactly as written (fetch would resolve `..` first). */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the console page and its files', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it('serves the page under a CSP that forbids inline script and style, other origins and framing', async () => {
    const res = await f.call('GET', '/console');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    for (const name of ['default-src', 'script-src', 'style-src', 'img-src', 'connect-src']) expect({ name, values: directives.get(name) }).toEqual({ name, values: ["'self'"] });
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe|\*|https?:|data:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.text).toContain('<script type="module" src="console/assets/main.js"></script>');
  });

  it('serves each file with its type and the same headers; any other name is a 404 problem, never a file read', async () => {
    const js = await f.call('GET', '/console/assets/views/entity.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(js.text).toBe(readFileSync(join(CONSOLE_ASSETS_DIR, 'views/entity.js'), 'utf8'));
    expect((await f.call('GET', '/console/assets/console.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');

    const missing = await f.call('GET', '/console/assets/nothing.js');
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', status: 404 });
    for (const path of ['/console/assets/../../package.json', '/console/assets/%2e%2e/%2e%2e/app.ts', '/console/assets/..%2fconsole-routes.ts']) {
      const res = await rawGet(f.url, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toMatch(/"name": "eventuate-local-ts"|registerConsoleRoutes/);
    }
  });

  it('ships no inline script or style and names no other origin', () => {
    const files = readdirSync(CONSOLE_ASSETS_DIR, { recursive: true, encoding: 'utf8' }).filter((name) => /\.(html|js|css|svg)$/.test(name));
    expect(files.length).toBeGreaterThanOrEqual(10);
    const html = readFileSync(join(CONSOLE_ASSETS_DIR, 'console.html'), 'utf8');
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="console/assets/main.js">']);
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/i);
    for (const name of files) {
      const text = readFileSync(join(CONSOLE_ASSETS_DIR, name), 'utf8');
      // The SVG's XML namespace is a name, not a request.
      const urls = (text.match(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
      expect({ name, urls }).toEqual({ name, urls: [] });
      expect({ name, innerHTML: /innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(text) }).toEqual({ name, innerHTML: false });
    }
  });

  it('documents the reads the console relies on in /openapi.json and hides its own routes', async () => {
    const spec = (await f.call('GET', '/openapi.json')).json();
    const listParams = spec.paths['/entity/{entityType}'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(listParams).toEqual(expect.arrayContaining(['query:after', 'query:prefix', 'query:limit']));
    expect(spec.paths['/events/{eventId}'].get.summary).toMatch(/by its id/);
    expect(spec.paths['/entity/{entityType}/{entityId}/history'].get.responses['200'].content['application/json'].schema.properties.snapshots).toBeDefined();
    expect(Object.keys(spec.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });

  it('validates the prefix like the other parameters', async () => {
    await createEntity(f, 'PrefixCase', 'k_1');
    await createEntity(f, 'PrefixCase', 'kx1');
    expect((await f.call('GET', '/entity/PrefixCase?prefix=k_')).json().entities.map((e: { entityId: string }) => e.entityId)).toEqual(['k_1']);
    for (const prefix of ['', 'a%25', 'a/b', 'x'.repeat(201)]) {
      const res = await f.call('GET', `/entity/PrefixCase?prefix=${prefix}`);
      expect({ prefix, status: res.status, error: res.json().error }).toEqual({ prefix, status: 400, error: 'validation_error' });
    }
  });
});

describe('the console with API keys', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture({ apiKeys: ['console-key'] });
  });
  afterAll(() => f.close());

  it('serves the page and its files without a key (they hold no data), and no data without one', async () => {
    expect((await f.call('GET', '/console')).status).toBe(200);
    expect((await f.call('GET', '/console/assets/main.js')).status).toBe(200);
    expect((await f.call('GET', '/console/assets/nothing.js')).status).toBe(404);
    for (const path of ['/types', '/entity/Account', '/events/stream', '/events/7a9d0c52-3c38-4d6b-9d0e-6f1b7f3b1c11']) {
      expect({ path, status: (await f.call('GET', path)).status }).toEqual({ path, status: 401 });
    }
    expect((await f.call('GET', '/types', undefined, { authorization: 'Bearer console-key' })).status).toBe(200);
  });
});
