import { DEFAULT_RELAY_BATCH_SIZE } from '../../event-store-server/relay';
import { join } from 'node:path';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers, type KafkaCollector } from '../support/kafka-collector';
import { spawnTs, type Child } from '../server/child-process';
import { event, httpCall } from '../server/server-fixture';

const CLI = join(__dirname, '../../cli/cli.ts');
const RELAY_BATCH_SIZE = DEFAULT_RELAY_BATCH_SIZE;
/** Short, so a frozen leader loses its lease in seconds (the default is 15 s). */
const LOCK_TIMEOUT_MS = 5000;

interface ServerProcess {
  name: string;
  child: Child;
  url: string;
}

interface RelayGauges {
  leader: number;
  published: number;
}

/**
 * Two `eventuate-local start` processes on one database, each with its relay on: what an operator
 * running two servers for availability gets when one is killed, and when one freezes.
 */
describe('two servers, one database, a relay in each', () => {
  let db: TestDatabase;
  let collector: KafkaCollector;
  let env: NodeJS.ProcessEnv;
  const processes: ServerProcess[] = [];
  const written: string[] = [];

  beforeAll(async () => {
    db = testDatabase('twin');
    const prefix = `${uniqueName('twin')}.`;
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      DATABASE_URL: db.connectionString,
      EVENTUATE_SCHEMA: db.schema,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      EVENTUATE_TOPIC_PREFIX: prefix,
      EVENTUATE_RELAY_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
    };
    collector = await collectTopics([`${prefix}Order`]);
  });

  afterAll(async () => {
    for (const server of processes) {
      server.child.process.kill('SIGCONT');
      await server.child.stop('SIGKILL');
    }
    await collector?.stop();
    await db?.drop();
  });

  const start = async (name: string): Promise<ServerProcess> => {
    const child = spawnTs(CLI, ['start'], { env });
    const [, url] = await child.waitForLine(/^eventuate-local listening on (http:\/\/\S+) /, 120_000);
    const server = { name, child, url };
    processes.push(server);
    return server;
  };

  const gauges = async (server: ServerProcess): Promise<RelayGauges> => {
    const text = (await httpCall(server.url, 'GET', '/metrics')).text;
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { leader: gauge('eventuate_relay_leader'), published: gauge('eventuate_relay_published_events') };
  };

  /** `count` events on entity `entityId`, one request each, through the servers in turn; returns when all committed. */
  const writeEntity = async (entityId: string, count: number, through: ServerProcess[]) => {
    for (let version = 0; version < count; version++) {
      const server = through[version % through.length];
      const res =
        version === 0
          ? await httpCall(server.url, 'POST', '/entity/Order', { entityId, events: [event('Placed', { entityId })] })
          : await httpCall(server.url, 'POST', `/entity/Order/${entityId}`, { entityVersion: version, events: [event('Changed', { version })] });
      if (res.status !== 200 && res.status !== 201) throw new Error(`write through ${server.name} failed: ${res.status} ${res.text}`);
      written.push(...(res.json().eventIds as string[]));
    }
  };
  const writeMany = (tag: string, writers: number, each: number, through: ServerProcess[]) =>
    Promise.all(Array.from({ length: writers }, (_, w) => writeEntity(`${tag}-${w}`, each, through)));

  const feedIds = async (server: ServerProcess) => {
    const ids: string[] = [];
    for (let after = ''; ; ) {
      const page = (await httpCall(server.url, 'GET', `/events?limit=1000${after ? `&after=${after}` : ''}`)).json();
      if (page.events.length === 0) return ids;
      ids.push(...page.events.map((e: { eventId: string }) => e.eventId));
      after = page.cursor;
    }
  };
  const caughtUp = async (server: ServerProcess) => /^eventuate_relay_lag_events 0$/m.test((await httpCall(server.url, 'GET', '/metrics')).text);
  const published = () => new Set(collector.messages.map((m) => m.value.id as string));
  const allPublished = () => eventually(() => published().size === new Set(written).size, `all ${written.length} written events reached Kafka`, 60_000);
  const storedCursor = async () => (await db.pool.query(`SELECT cursor FROM "${db.schema}".relay_cursors`)).rows[0]?.cursor as string | undefined;

  jest.setTimeout(300_000);

  it('both feeds are complete, exactly one relay publishes; SIGKILL of the leader: the other takes over within 5 s, nothing lost', async () => {
    const [a, b] = await Promise.all([start('A'), start('B')]);
    await eventually(async () => (await gauges(a)).leader + (await gauges(b)).leader === 1, 'one of the two relays leads');

    await writeMany('first', 6, 40, [a, b]);
    const [feedA, feedB] = await Promise.all([feedIds(a), feedIds(b)]);
    expect(feedA).toEqual(feedB);
    expect(new Set(feedA)).toEqual(new Set(written));
    expect(feedA).toHaveLength(written.length);

    await allPublished();
    const [ga, gb] = await Promise.all([gauges(a), gauges(b)]);
    const [leader, standby] = ga.leader === 1 ? [a, b] : [b, a];
    expect([ga.leader, gb.leader].sort()).toEqual([0, 1]);
    expect((await gauges(standby)).published).toBe(0);
    expect((await gauges(leader)).published).toBe(written.length);

    // Writers keep going through the standby while the leader's process is killed.
    const writing = writeMany('second', 4, 60, [standby]);
    await eventually(() => written.length >= 240 + 40, 'the second wave is under way');
    const killedAt = Date.now();
    leader.child.process.kill('SIGKILL');
    await leader.child.exited();
    processes.splice(processes.indexOf(leader), 1);
    await eventually(async () => (await gauges(standby)).leader === 1, 'the standby takes over');
    const takeoverMs = Date.now() - killedAt;
    await writing;

    await allPublished();
    await new Promise((r) => setTimeout(r, 500)); // anything published twice arrives too
    const ids = collector.messages.map((m) => m.value.id as string);
    const duplicates = ids.length - new Set(ids).size;
    console.log(`SIGKILL of the leading server: the other took over in ${takeoverMs} ms; ${written.length} events, all in Kafka, ${duplicates} published twice (bound: two batches of ${RELAY_BATCH_SIZE}: one published, one whose cursor was being stored)`);
    expect(takeoverMs).toBeLessThan(5000);
    expect(published()).toEqual(new Set(written));
    expect(duplicates).toBeLessThanOrEqual(2 * RELAY_BATCH_SIZE);
  });

  it('a leader frozen with SIGSTOP loses the leadership within 30 s; resumed, it publishes nothing more and moves no cursor', async () => {
    // The survivor of the test before, or (run alone) a server of its own.
    const frozen = processes[0] ?? (await start('A'));
    await eventually(async () => (await gauges(frozen)).leader === 1, 'it leads');
    const standby = await start('C');
    await writeMany('third', 3, 10, [frozen, standby]);
    await allPublished();
    await eventually(async () => (await storedCursor()) !== undefined && (await caughtUp(frozen)), 'the leader caught up');
    const publishedBeforeFreeze = (await gauges(frozen)).published;
    const messagesBeforeFreeze = collector.messages.length;

    const frozenAt = Date.now();
    frozen.child.process.kill('SIGSTOP');
    // Written during the freeze: the frozen leader's feed wakes with them when it resumes.
    await writeMany('fourth', 3, 10, [standby]);
    await eventually(async () => (await gauges(standby)).leader === 1, 'the standby takes over from the frozen leader', 30_000);
    const takeoverMs = Date.now() - frozenAt;
    await allPublished();
    await eventually(() => caughtUp(standby), 'the new leader caught up');
    const cursorOfNewLeader = await storedCursor();

    frozen.child.process.kill('SIGCONT');
    // Nothing is written now, so nothing may move: any publish or cursor write would be the resumed leader's.
    const cursors = new Set<string | undefined>();
    const watchUntil = Date.now() + 3000;
    while (Date.now() < watchUntil) {
      cursors.add(await storedCursor());
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([...cursors]).toEqual([cursorOfNewLeader]);
    await frozen.child.waitForLine(/relay lost its leader lock/, 10_000);
    expect(await gauges(frozen)).toEqual({ leader: 0, published: publishedBeforeFreeze });

    // Both serve writes again; only the new leader publishes them, each once.
    await writeMany('fifth', 3, 10, [frozen, standby]);
    await allPublished();
    await new Promise((r) => setTimeout(r, 1000));
    const sinceFreeze = collector.messages.slice(messagesBeforeFreeze).map((m) => m.value.id as string);
    console.log(`SIGSTOP of the leading server: the other took over in ${takeoverMs} ms (lock timeout ${LOCK_TIMEOUT_MS} ms); ${sinceFreeze.length} messages since, none twice`);
    expect(takeoverMs).toBeLessThan(30_000);
    expect(sinceFreeze).toHaveLength(new Set(sinceFreeze).size);
    expect(sinceFreeze).toHaveLength(60);
    expect(await gauges(frozen)).toEqual({ leader: 0, published: publishedBeforeFreeze });
  });
});
