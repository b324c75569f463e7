import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { PostgresEventStore } from '../../src';
import { testDatabase, TestDatabase, uniqueName } from '../support/database';
import { spawnTs } from './child-process';
import { event, httpCall } from './server-fixture';

const CLI = join(__dirname, '../../cli/cli.ts');

/** The environment of a child CLI: only what the test sets, so the developer's own settings do not leak in (LOG_LEVEL at its default). */
function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', ...vars };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** A few requests of every outcome: a success, a 404, a 400, a write. */
async function someRequests(url: string): Promise<number> {
  expect((await httpCall(url, 'GET', '/health')).status).toBe(200);
  expect((await httpCall(url, 'GET', '/nowhere')).status).toBe(404);
  expect((await httpCall(url, 'POST', '/entity/Account', { events: [] })).status).toBe(400);
  expect((await httpCall(url, 'POST', '/entity/Account', { events: [event()] })).status).toBe(201);
  return 4;
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('the eventuate-local CLI', () => {
  let db: TestDatabase;
  beforeAll(() => {
    db = testDatabase('cli');
  });
  afterAll(() => db.drop());

  it('start: says where it listens and where the data is, serves, and exits 0 on SIGINT', async () => {
    const cli = spawnTs(CLI, ['start'], { env: cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema }) });
    try {
      const [, url] = await cli.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /);
      const lines = cli.output().split('\n');
      const database = new URL(db.connectionString).pathname;
      expect(lines[0]).toMatch(new RegExp(`^eventuate-local data: postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+${database} \\(schema ${db.schema}\\)$`));
      expect(cli.output()).not.toContain('eventuate@'); // the password is not printed
      expect((await httpCall(url, 'GET', '/health')).status).toBe(200);
      expect((await httpCall(url, 'POST', '/entity/Account', { entityId: 'cli-1', events: [event()] })).status).toBe(201);
    } finally {
      expect(await cli.stop('SIGINT')).toBe(0);
    }
    expect(cli.output()).toContain('eventuate-local stopped');
    const { rows } = await db.pool.query(`SELECT entity_id FROM "${db.schema}".entities`);
    expect(rows).toEqual([{ entity_id: 'cli-1' }]);
  });

  it('start at the default log level prints its two lines, then only the stop lines, whatever the requests', async () => {
    const cli = spawnTs(CLI, ['start'], { env: cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema }) });
    try {
      const [, url] = await cli.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /);
      await someRequests(url);
    } finally {
      expect(await cli.stop('SIGINT')).toBe(0);
    }
    expect(lines(cli.output())).toEqual([
      expect.stringMatching(/^eventuate-local data: postgres:\/\/\S+ \(schema \w+\)$/),
      expect.stringMatching(/^eventuate-local listening on http:\/\/127\.0\.0\.1:\d+ \(API docs: http:\/\/127\.0\.0\.1:\d+\/docs\)$/),
      'eventuate-local stopping',
      'eventuate-local stopped',
    ]);
  });

  it('LOG_LEVEL=debug logs each request in one record: JSON when stdout is not a terminal, text with LOG_FORMAT=text', async () => {
    const logs: Record<string, string[]> = {};
    for (const format of ['', 'text']) {
      const cli = spawnTs(CLI, ['start'], { env: cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema, LOG_LEVEL: 'debug', LOG_FORMAT: format }) });
      let requests: number;
      try {
        const [, url] = await cli.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /);
        requests = await someRequests(url);
      } finally {
        expect(await cli.stop('SIGINT')).toBe(0);
      }
      logs[format] = lines(cli.output()).filter((line) => !line.startsWith('eventuate-local '));
      expect(logs[format]).toHaveLength(requests);
    }

    const records = logs[''].map((line) => JSON.parse(line));
    expect(records.map((r) => [r.level, r.msg, r.method, r.url, r.statusCode])).toEqual([
      [20, 'request', 'GET', '/health', 200],
      [20, 'request', 'GET', '/nowhere', 404],
      [20, 'request', 'POST', '/entity/Account', 400],
      [20, 'request', 'POST', '/entity/Account', 201],
    ]);
    expect(records.every((r) => typeof r.ms === 'number' && typeof r.reqId === 'string')).toBe(true);

    expect(logs.text[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}Z debug request reqId=\S+ method=GET url=\/health statusCode=200 ms=[\d.]+$/);
    expect(logs.text[3]).toMatch(/ debug request reqId=\S+ method=POST url=\/entity\/Account statusCode=201 ms=[\d.]+$/);
  });

  it('start on a port in use says so in one line that names PORT=, and exits 1', async () => {
    const holder = await listenOn(0);
    const port = (holder.address() as { port: number }).port;
    try {
      const cli = spawnTs(CLI, ['start'], { env: cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema, PORT: String(port) }) });
      expect(await cli.exited()).toBe(1);
      expect(lines(cli.output())).toEqual([
        expect.stringMatching(/^eventuate-local data: /),
        `eventuate-local: port ${port} on 127.0.0.1 is in use by another program: stop it, or choose another port with PORT= (PORT=0 takes any free one)`,
      ]);
    } finally {
      holder.close();
    }
  });

  it('start with KAFKA_BROKERS: runs the relay too, which /ready and /metrics report, and publishes appended events', async () => {
    const topicPrefix = `${uniqueName('cli')}.`;
    const env = cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: db.schema, KAFKA_BROKERS: process.env.KAFKA_BROKERS!, EVENTUATE_TOPIC_PREFIX: topicPrefix });
    const cli = spawnTs(CLI, ['start'], { env });
    const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('cli-test') });
    try {
      const [, url] = await cli.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /);
      await cli.waitForLine(/^eventuate-local relay: publishing events to Kafka at /);
      expect((await httpCall(url, 'POST', '/entity/Published', { entityId: 'p-1', events: [event('Announced', { n: 7 })] })).status).toBe(201);

      await consumer.connect();
      await consumer.subscribe({ topic: `${topicPrefix}Published`, fromBeginning: true });
      const message = await new Promise<any>((resolve) => {
        void consumer.run({ eachMessage: async ({ message: m }) => resolve(JSON.parse(m.value!.toString())) });
      });
      expect(message).toMatchObject({ entityType: 'Published', entityId: 'p-1', eventType: 'Announced', eventData: '{"n":7}' });

      expect((await httpCall(url, 'GET', '/ready')).status).toBe(200);
      expect((await httpCall(url, 'GET', '/metrics')).text).toMatch(/^eventuate_relay_ready 1$/m);
    } finally {
      await consumer.disconnect();
      expect(await cli.stop('SIGINT')).toBe(0);
    }
  });

  it('start without DATABASE_URL: runs an embedded PostgreSQL whose data survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-cli-'));
    try {
      const env = cliEnv({ EVENTUATE_DATA_DIR: dataDir });
      const first = spawnTs(CLI, ['start'], { env });
      let url: string;
      try {
        [, url] = await first.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /, 120_000);
        expect(first.output().split('\n')[0]).toBe(`eventuate-local data: embedded PostgreSQL in ${join(dataDir, 'pg')}`);
        expect((await httpCall(url, 'POST', '/entity/Account', { entityId: 'kept', events: [event()] })).status).toBe(201);
      } finally {
        expect(await first.stop('SIGINT')).toBe(0);
      }
      expect(statSync(join(dataDir, 'pg', 'PG_VERSION')).isFile()).toBe(true);

      const second = spawnTs(CLI, [], { env });
      try {
        [, url] = await second.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /, 120_000);
        const loaded = await httpCall(url, 'GET', '/entity/Account/kept');
        expect(loaded.status).toBe(200);
        expect(loaded.json().entityVersion).toBe(1);
      } finally {
        expect(await second.stop('SIGTERM')).toBe(0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  it('a second start on the data directory of a running one says in one line that another server uses it, and leaves the first serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-cli-'));
    try {
      const env = cliEnv({ EVENTUATE_DATA_DIR: dataDir });
      const first = spawnTs(CLI, ['start'], { env });
      try {
        const [, url] = await first.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /, 120_000);
        const postgresPid = readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0];

        const second = spawnTs(CLI, ['start'], { env });
        expect(await second.exited()).toBe(1);
        expect(lines(second.output())).toEqual([
          `eventuate-local: another server is using the data directory ${join(dataDir, 'pg')} (PostgreSQL pid ${postgresPid} runs on it, started by another eventuate-local, ` +
            'or left running by one that was killed): stop that server, or set EVENTUATE_DATA_DIR to another directory',
        ]);
        expect((await httpCall(url, 'POST', '/entity/Account', { events: [event()] })).status).toBe(201);
      } finally {
        expect(await first.stop('SIGINT')).toBe(0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  it('an embedded PostgreSQL that fails to start is reported with the last lines of its own log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-cli-'));
    try {
      // A data directory whose PG_VERSION is all that is left: PostgreSQL itself must say what is wrong.
      mkdirSync(join(dataDir, 'pg'));
      writeFileSync(join(dataDir, 'pg', 'PG_VERSION'), 'garbage\n');
      const cli = spawnTs(CLI, ['start'], { env: cliEnv({ EVENTUATE_DATA_DIR: dataDir }) });
      expect(await cli.exited()).toBe(1);
      const output = lines(cli.output());
      expect(output[0]).toBe(`eventuate-local: the embedded PostgreSQL in ${join(dataDir, 'pg')} failed to start; the last lines of its log:`);
      expect(output.slice(1).join('\n')).toContain(`could not access the server configuration file "${join(dataDir, 'pg', 'postgresql.conf')}"`);
      expect(output.slice(1).every((line) => line.startsWith('  '))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses invalid configuration with a clear message and exit code 1', async () => {
    const cli = spawnTs(CLI, ['start'], { env: cliEnv({ PORT: 'eighty', LOG_LEVEL: 'chatty' }) });
    expect(await cli.exited()).toBe(1);
    expect(cli.output()).toContain('invalid configuration');
    expect(cli.output()).toContain('PORT="eighty"');
    expect(cli.output()).toContain('LOG_LEVEL="chatty"');
  });

  it('migrate: applies the migrations and exits 0', async () => {
    const schema = `${db.schema}_m`;
    const cli = spawnTs(CLI, ['migrate'], { env: cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: schema }) });
    try {
      expect(await cli.exited()).toBe(0);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('events', 'entities', 'snapshots')`, [schema]);
      expect(rows[0].n).toBe(3);
    } finally {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('repair-after-restore: start refuses a restored database and names the command, which repairs it once', async () => {
    const schema = `${db.schema}_r`;
    const env = cliEnv({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: schema });
    try {
      await (await PostgresEventStore.connect({ connectionString: db.connectionString, schema })).close();
      await db.pool.query(
        `INSERT INTO "${schema}".events (event_id, entity_type, entity_id, entity_version, event_type, event_data, transaction_id)
         VALUES (gen_random_uuid(), 'Restored', 'r-1', 1, 'Written', '{}', (pg_current_xact_id()::text::numeric + 1000000000)::text::xid8)`,
      );
      const refused = spawnTs(CLI, ['start'], { env });
      expect(await refused.exited()).toBe(1);
      expect(refused.output()).toContain('eventuate-local repair-after-restore');

      const repair = spawnTs(CLI, ['repair-after-restore'], { env });
      expect(await repair.exited()).toBe(0);
      expect(repair.output()).toMatch(new RegExp(`^eventuate-local: repaired schema ${schema} in .*: 1 events renumbered`, 'm'));

      const started = spawnTs(CLI, ['start'], { env });
      try {
        const [, url] = await started.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /);
        expect((await httpCall(url, 'GET', '/events')).json().events.map((e: any) => e.entityId)).toEqual(['r-1']);
      } finally {
        expect(await started.stop('SIGINT')).toBe(0);
      }
    } finally {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }, 180_000);

  it('help lists the commands and every variable; an unknown command exits 2', async () => {
    const help = spawnTs(CLI, ['help'], { env: cliEnv({}) });
    expect(await help.exited()).toBe(0);
    expect(help.output()).toMatch(/^\s+start\s/m);
    expect(help.output()).toMatch(/^\s+migrate\s/m);
    expect(help.output()).toMatch(/^\s+repair-after-restore\s/m);
    expect(help.output()).toContain('EVENTUATE_API_KEYS');
    expect(help.output()).toMatch(/^environment of history, tail and saga:\n {2}EVENTUATE_URL .*\n {2}EVENTUATE_API_KEY /m);
    const unknown = spawnTs(CLI, ['frobnicate'], { env: cliEnv({}) });
    expect(await unknown.exited()).toBe(2);
    expect(unknown.output()).toContain('unknown command "frobnicate"');
  });
});
