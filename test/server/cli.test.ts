import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { testDatabase, TestDatabase, uniqueName } from '../support/database';
import { spawnTs } from './child-process';
import { event, httpCall } from './server-fixture';

const CLI = join(__dirname, '../../cli/cli.ts');

/** The environment of a child CLI: only what the test sets, so the developer's own settings do not leak in. */
function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...vars };
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
      expect(lines[0]).toMatch(new RegExp(`^eventuate-local data: postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/postgres \\(schema ${db.schema}\\)$`));
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

  it('help lists the commands and every variable; an unknown command exits 2', async () => {
    const help = spawnTs(CLI, ['help'], { env: cliEnv({}) });
    expect(await help.exited()).toBe(0);
    expect(help.output()).toMatch(/^\s+start\s/m);
    expect(help.output()).toMatch(/^\s+migrate\s/m);
    expect(help.output()).toContain('EVENTUATE_API_KEYS');
    expect(help.output()).toMatch(/^environment of history and tail:\n {2}EVENTUATE_URL .*\n {2}EVENTUATE_API_KEY /m);
    const unknown = spawnTs(CLI, ['frobnicate'], { env: cliEnv({}) });
    expect(await unknown.exited()).toBe(2);
    expect(unknown.output()).toContain('unknown command "frobnicate"');
  });
});
