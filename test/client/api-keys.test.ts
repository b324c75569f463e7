import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  HttpEventStore,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
} from '../../client';
import { buildApp } from '../../event-store-server/app';
import { UnauthorizedError } from '../../src/errors';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { spawnTs } from '../server/child-process';
import { Deposit, Deposited, OpenWallet, Wallet } from '../subscriptions/wallet-domain';

const KEY = 'k-3f9a1c0e5b7d';
const CLI = join(__dirname, '../../cli/cli.ts');

@EventSubscriber('keyedDeposits')
class KeyedDeposits {
  readonly amounts: number[] = [];
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    this.amounts.push(ctx.event.amount);
  }
}

/** A JSON-lines logger whose records the test can read. */
function recordingLogger() {
  const records: Array<{ msg: string; err?: { type?: string; message?: string } }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), records };
}

describe('API keys from the client side', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    db = testDatabase('keys');
    const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    app = buildApp({ store, apiKeys: [KEY], defaultMetrics: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    // As in the end-to-end test: a feed client that aborted its long poll can leave a connection the
    // server does not see as idle, which once held app.close() past the hook's 60 s under load.
    app.server.closeAllConnections();
    await app.close();
    await db.drop();
  });

  const eventCount = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`)).rows[0].n as number;

  it('HttpEventStore sends its apiKey; without it, or with a wrong one, a 401 becomes UnauthorizedError and nothing is written', async () => {
    const keyed = new HttpEventStore({ url, apiKey: KEY });
    const created = await keyed.create({ entityType: 'Vault', entityId: 'v-1', events: [{ eventType: 'Opened', eventData: {} }] });
    expect((await keyed.load('Vault', 'v-1')).entityVersion).toBe(1);
    expect((await keyed.readFeed()).events.map((e) => e.eventId)).toEqual(created.eventIds);

    for (const store of [new HttpEventStore({ url }), new HttpEventStore({ url, apiKey: 'not-the-key' })]) {
      const refused = store.create({ entityType: 'Vault', entityId: 'v-2', events: [{ eventType: 'Opened', eventData: {} }] });
      await expect(refused).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(refused).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
      await expect(store.load('Vault', 'v-1')).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(store.readFeed()).rejects.toBeInstanceOf(UnauthorizedError);
    }
    await expect(new HttpEventStore({ url, apiKey: 'not-the-key' }).load('Vault', 'v-1')).rejects.toThrow('the API key is not valid');
    expect(await eventCount()).toBe(1);
  });

  it('feedSource with apiKey delivers the feed; without it, the 401 surfaces as UnauthorizedError and nothing is handled', async () => {
    const wallets = new AggregateRepository(Wallet, new HttpEventStore({ url, apiKey: KEY }));
    await wallets.save(new OpenWallet('kim'), { entityId: 'w-keys' });
    await wallets.update('w-keys', new Deposit(7));

    const keyed = new KeyedDeposits();
    const withKey = new SubscriptionManager({
      source: feedSource({ url, apiKey: KEY, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [keyed],
      logger: pino({ level: 'silent' }),
    });
    await withKey.start();
    try {
      await eventually(() => keyed.amounts.length === 1, 'the deposit reaches the subscriber');
      expect(keyed.amounts).toEqual([7]);
    } finally {
      await withKey.stop();
    }

    const unkeyed = new KeyedDeposits();
    const { logger, records } = recordingLogger();
    const halts: Error[] = [];
    const withoutKey = new SubscriptionManager({
      source: feedSource({ url, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [unkeyed],
      logger,
      onSubscriberHalted: (_id, error) => halts.push(error),
    });
    await withoutKey.start();
    try {
      // Whether the subscriber retries (logging each refusal) or halts, the refusal must be an UnauthorizedError, not silence.
      const refusals = () => [...halts.map((e) => e.name), ...records.map((r) => r.err?.type)].filter((name) => name === 'UnauthorizedError');
      await eventually(() => refusals().length > 0, 'the 401 is reported');
      expect(unkeyed.amounts).toEqual([]);
    } finally {
      await withoutKey.stop();
    }
  });

  it('the CLI sends --api-key; without it, it prints the 401 and exits 1', async () => {
    await new HttpEventStore({ url, apiKey: KEY }).create({ entityType: 'Ledger', entityId: 'l-1', events: [{ eventType: 'Opened', eventData: { by: 'cli' } }] });
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };

    // Three processes at once: each spends seconds compiling the CLI.
    const keyed = spawnTs(CLI, ['history', 'Ledger', 'l-1', '--url', url, '--api-key', KEY, '--json'], { env });
    const tail = spawnTs(CLI, ['tail', 'Ledger', '--from-start', '--count', '1', '--json', '--url', url, '--api-key', KEY], { env });
    const unkeyed = spawnTs(CLI, ['history', 'Ledger', 'l-1', '--url', url], { env });
    expect(await Promise.all([keyed.exited(), tail.exited(), unkeyed.exited()])).toEqual([0, 0, 1]);
    expect(JSON.parse(keyed.output().trim())).toMatchObject({ entityType: 'Ledger', entityId: 'l-1', eventType: 'Opened', eventData: { by: 'cli' } });
    expect(JSON.parse(tail.output().trim().split('\n').at(-1)!)).toMatchObject({ entityId: 'l-1' });
    expect(unkeyed.output()).toMatch(/^eventuate-local: a valid API key is required: Authorization: Bearer <key> \(unauthorized\)/m);
  });

});
