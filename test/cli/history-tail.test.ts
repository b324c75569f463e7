import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { serverFixture, type ServerFixture } from '../server/server-fixture';

const REPO_ROOT = resolve(__dirname, '../..');
const CLI = ['-r', 'ts-node/register/transpile-only', 'cli/cli.ts'];

/** This process's environment without the CLI's own variables, so a developer's settings do not leak into a test. */
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['EVENTUATE_URL', 'EVENTUATE_API_KEY'].includes(name)));

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: { ...BASE_ENV, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('eventuate-local history and tail against a running server', () => {
  let server: ServerFixture;
  const type = `Cli${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await serverFixture();
    await server.store.create({
      entityType: type,
      entityId: 'acc-1',
      events: [
        { eventType: 'AccountOpened', eventData: { owner: 'Ann', initialBalance: 10_000 } },
        { eventType: 'AccountDebited', eventData: { amount: 2_500, transferId: 't-1', note: 'x'.repeat(500) } },
      ],
    });
  });
  afterAll(() => server.close());

  it('history prints version, time, type and shortened data, oldest first', async () => {
    const { code, stdout } = await cli(['history', type, 'acc-1', '--url', server.url]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${type} acc-1: version 2`);
    expect(lines[1]).toMatch(/^ {2}v1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}AccountOpened {2}\{"owner":"Ann","initialBalance":10000\}$/);
    // Long data is cut to one line (PostgreSQL's jsonb orders keys its own way).
    expect(lines[2]).toMatch(/^ {2}v2 .* AccountDebited {2}\{.*"note":"x+…$/);
    expect(lines[2].length).toBeLessThan(250);
    expect(lines).toHaveLength(3);
  });

  it('history --json prints each stored event as one JSON line', async () => {
    const { code, stdout } = await cli(['history', type, 'acc-1', '--url', server.url, '--json']);
    expect(code).toBe(0);
    const events = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => [e.entityVersion, e.eventType])).toEqual([
      [1, 'AccountOpened'],
      [2, 'AccountDebited'],
    ]);
    expect(events[1].eventData.note).toHaveLength(500);
  });

  it('history of an unknown entity, or with bad arguments, says so and fails', async () => {
    const missing = await cli(['history', type, 'nobody', '--url', server.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(entity_not_found)');
    const bad = await cli(['history', type, '--url', server.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: eventuate-local history');
  });

  it('tail starts at the end of the feed and prints events of the chosen types as they commit', async () => {
    const child = spawn(process.execPath, [...CLI, 'tail', type, '--url', server.url, '--count', '2'], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    // The banner comes once the end of the feed is found: only what commits afterwards is printed.
    while (!stderr.includes('following')) {
      if (child.exitCode !== null) throw new Error(`tail exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.store.create({ entityType: `${type}Other`, entityId: 'ignored', events: [{ eventType: 'Noise', eventData: {} }] });
    await server.store.append({ entityType: type, entityId: 'acc-1', expectedVersion: 2, events: [{ eventType: 'AccountCredited', eventData: { amount: 1 } }] });
    await server.store.create({ entityType: type, entityId: 'acc-2', events: [{ eventType: 'AccountOpened', eventData: { owner: 'Bo' } }] });
    expect(await exited).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${type} acc-1 v3 {2}\\S+Z {2}AccountCredited {2}\\{"amount":1\\}$`));
    expect(lines[1]).toMatch(new RegExp(`^${type} acc-2 v1 .* AccountOpened {2}\\{"owner":"Bo"\\}$`));
  });

  it('tail --from-start --json replays the feed as JSON lines with cursors', async () => {
    const { code, stdout } = await cli(['tail', type, '--url', server.url, '--from-start', '--json', '--count', '3']);
    expect(code).toBe(0);
    const events = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => `${e.entityId}@${e.entityVersion}`)).toEqual(['acc-1@1', 'acc-1@2', 'acc-1@3']);
    expect(events.every((e) => typeof e.cursor === 'string' && e.cursor !== '')).toBe(true);
  });
});

describe('eventuate-local history and tail against a server with API keys', () => {
  let server: ServerFixture;
  const type = `CliKey${Date.now().toString(36)}`;
  // Nothing listens on port 9 (discard) here: a URL that would fail if it were used.
  const NOWHERE = 'http://127.0.0.1:9';

  beforeAll(async () => {
    server = await serverFixture({ apiKeys: ['key-one', 'key-two'] });
    await server.store.create({ entityType: type, entityId: 'k-1', events: [{ eventType: 'Opened', eventData: { by: 'env' } }] });
  });
  afterAll(() => server.close());

  it('history and tail take the server and the key from EVENTUATE_URL and EVENTUATE_API_KEY alone', async () => {
    const env = { EVENTUATE_URL: server.url, EVENTUATE_API_KEY: 'key-two' };
    const history = await cli(['history', type, 'k-1'], env);
    expect(history.stderr).toBe('');
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(new RegExp(`^${type} k-1: version 1\n {2}v1 .* Opened {2}\\{"by":"env"\\}\n$`));

    const tail = await cli(['tail', type, '--from-start', '--count', '1'], env);
    expect(tail.code).toBe(0);
    expect(tail.stderr).toContain(`following ${type} on ${server.url}`);
    expect(tail.stdout).toMatch(new RegExp(`^${type} k-1 v1 .* Opened`));
  });

  it('--url and --api-key win over the variables', async () => {
    const wins = await cli(['history', type, 'k-1', '--url', server.url, '--api-key', 'key-one'], { EVENTUATE_URL: NOWHERE, EVENTUATE_API_KEY: 'wrong-key' });
    expect(wins.stderr).toBe('');
    expect(wins.code).toBe(0);
    expect(wins.stdout).toContain(`${type} k-1: version 1`);

    // The flag wins in the other direction too: a wrong --api-key is sent even when the variable holds a right one.
    const wrongFlag = await cli(['history', type, 'k-1', '--api-key', 'wrong-key'], { EVENTUATE_URL: server.url, EVENTUATE_API_KEY: 'key-one' });
    expect(wrongFlag.code).toBe(1);
    expect(wrongFlag.stderr).toContain('(unauthorized)');
  });

  it('without a key, says which variable to set', async () => {
    const missing = await cli(['history', type, 'k-1', '--url', server.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/\(unauthorized\): set EVENTUATE_API_KEY \(or --api-key\)/);
  });

  it('refuses an EVENTUATE_URL that is not http(s), naming the variable', async () => {
    const bad = await cli(['history', type, 'k-1'], { EVENTUATE_URL: 'localhost:8080' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('EVENTUATE_URL must be an http(s) URL, not "localhost:8080"');
  });
});
