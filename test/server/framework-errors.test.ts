import { Writable } from 'node:stream';
import pino from 'pino';
import { parseRawResponse, rawConnection, rawHttp } from './raw-http';
import { event, serverFixture, ServerFixture } from './server-fixture';

const CLOSE = 'Host: x\r\nConnection: close\r\n';

/** Requests that fail before any route runs are answered as problems too, with a documented code. */
describe('errors raised before routing', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it.each([
    ['bad percent-encoding in the path', 400, 'validation_error', `GET /entity/Account/%zz HTTP/1.1\r\n${CLOSE}\r\n`],
    ['a malformed chunk', 400, 'bad_request', `POST /entity/Account HTTP/1.1\r\n${CLOSE}Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n`],
    ['both Content-Length and chunked', 400, 'bad_request', `POST /entity/Account HTTP/1.1\r\n${CLOSE}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`],
    ['a method that is no token', 400, 'bad_request', `GE(T /health HTTP/1.1\r\n${CLOSE}\r\n`],
    ['not HTTP at all', 400, 'bad_request', 'hello\r\n\r\n'],
    ['headers over the limit', 431, 'headers_too_large', `GET /health HTTP/1.1\r\n${CLOSE}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ])('%s: %d %s as problem+json', async (_name, status, error, request) => {
    const res = parseRawResponse(await rawHttp(f.url, request));
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status, error, type: `urn:eventuate-local:error:${error}`, title: expect.any(String), detail: expect.any(String) });
  });
});

describe('slow clients', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture({ requestTimeoutMs: 1500 });
  });
  afterAll(() => f.close());

  /** Starts `request`, then sends `trickle` a byte at a time every `everyMs`; resolves with the answer and when it came. */
  function slowly(request: string, trickle: string, everyMs: number): Promise<{ answer: string; afterMs: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = rawConnection(f.url);
      let answer = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]);
      }, everyMs);
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, afterMs: Date.now() - started });
      });
      socket.on('error', reject);
      socket.write(request);
    });
  }

  // Before the fix a body trickling in lived 60 to 90 s whatever the configured timeout; a bound well below that shows it is enforced.
  const BOUND_MS = 20_000;

  it('ends a body that trickles in at the request timeout with 408 request_timeout, and closes the connection', async () => {
    const body = JSON.stringify({ events: [event()] });
    const { answer, afterMs } = await slowly(`POST /entity/Slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body, 300);
    const res = parseRawResponse(answer);
    expect(res.status).toBe(408);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ error: 'request_timeout', status: 408 });
    expect(afterMs).toBeGreaterThanOrEqual(1400);
    expect(afterMs).toBeLessThan(BOUND_MS);
    expect(await f.tableCounts()).toEqual({ events: 0, entities: 0, snapshots: 0 });
  });

  it('ends a body that stops half way in the same way', async () => {
    const { answer, afterMs } = await slowly(
      `POST /entity/Slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"events": [`,
      '',
      1000,
    );
    expect(parseRawResponse(answer).json()).toMatchObject({ error: 'request_timeout' });
    expect(afterMs).toBeLessThan(BOUND_MS);
  });

  it('ends headers that trickle in', async () => {
    const { answer, afterMs } = await slowly('GET /health HTTP/1.1\r\n', 'X-Slow: 0123456789abcdefghij\r\n\r\n', 300);
    expect(parseRawResponse(answer).json()).toMatchObject({ error: 'request_timeout' });
    expect(afterMs).toBeLessThan(BOUND_MS);
  });

  it('leaves long polls alone: the timeout is for receiving the request, not for answering it', async () => {
    const started = Date.now();
    const page = await f.call('GET', '/events?waitMs=2500');
    expect(page.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
  });
});

describe('the connection cap', () => {
  it('closes connections beyond maxConnections at once, and serves again when one ends', async () => {
    const f = await serverFixture({ maxConnections: 2 });
    const held = [rawConnection(f.url), rawConnection(f.url)];
    try {
      await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
      // Give the server the time to accept both.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = await rawHttp(f.url, `GET /health HTTP/1.1\r\n${CLOSE}\r\n`).catch((err: Error) => `error: ${err.message}`);
      expect(refused).not.toMatch(/^HTTP/);
      held.pop()!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(parseRawResponse(await rawHttp(f.url, `GET /health HTTP/1.1\r\n${CLOSE}\r\n`)).status).toBe(200);
    } finally {
      held.forEach((socket) => socket.destroy());
      await f.close();
    }
  });
});

describe('a client that goes away mid-request', () => {
  it('is logged as what it is, not as an unavailable database', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const f = await serverFixture({ logger: pino({ level: 'debug' }, stream) });
    try {
      const socket = rawConnection(f.url);
      socket.write(`POST /entity/Gone HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"events"`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => /closed the connection/.test(l.msg)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

      expect(lines.filter((l) => /closed the connection/.test(l.msg))).toHaveLength(1);
      expect(lines.filter((l) => /database|unavailable/.test(l.msg))).toEqual([]);
      expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    } finally {
      await f.close();
    }
  });
});
