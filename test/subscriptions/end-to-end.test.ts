import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import {
  AggregateRepository,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  HttpEventStore,
  SubscriptionManager,
  endOfFeed,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  postgresCursorStore,
} from '../../client';
import { buildApp } from '../../event-store-server/app';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { eventually, kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { Deposit, Deposited, OpenWallet, Wallet, WalletOpened } from './wallet-domain';

const quiet = pino({ level: 'silent' });
const ENTITIES = 10;
const DEPOSITS = 20;
const EVENTS_PER_ENTITY = DEPOSITS + 1;

type Delivery = { entityId: string; entityVersion: number; eventId: string; eventType: string };

/** Records every delivery; one class per subscriber id, since the id is fixed by the decorator. */
function recorder() {
  const deliveries: Delivery[] = [];
  const record = (ctx: EventHandlerContext<object>) =>
    void deliveries.push({ entityId: ctx.entityId, entityVersion: ctx.entityVersion, eventId: ctx.eventId, eventType: ctx.eventType });
  return { deliveries, record };
}

@EventSubscriber('walletHistoryKafka')
class KafkaWalletHistory {
  readonly log = recorder();
  @EventHandlerMethod(WalletOpened)
  async opened(ctx: EventHandlerContext<WalletOpened>) {
    expect(ctx.event).toBeInstanceOf(WalletOpened);
    this.log.record(ctx);
  }
  @EventHandlerMethod(Deposited)
  async deposited(ctx: EventHandlerContext<Deposited>) {
    expect(ctx.event).toBeInstanceOf(Deposited);
    // Slow down now and then, so that entities really overlap.
    if (ctx.event.amount % 7 === 0) await new Promise((r) => setTimeout(r, 5));
    this.log.record(ctx);
  }
}

@EventSubscriber('walletHistoryHttpFeed')
class HttpFeedWalletHistory {
  readonly log = recorder();
  @EventHandlerMethod(WalletOpened)
  opened(ctx: EventHandlerContext<WalletOpened>) {
    this.log.record(ctx);
  }
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    this.log.record(ctx);
  }
}

@EventSubscriber('walletHistoryStoreFeed')
class StoreFeedWalletHistory {
  readonly log = recorder();
  @EventHandlerMethod(WalletOpened)
  opened(ctx: EventHandlerContext<WalletOpened>) {
    this.log.record(ctx);
  }
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    this.log.record(ctx);
  }
}

/** Each entity's versions as delivered, in delivery order. */
function versionsByEntity(deliveries: Delivery[]): Record<string, number[]> {
  const byEntity: Record<string, number[]> = {};
  for (const d of deliveries) (byEntity[d.entityId] ??= []).push(d.entityVersion);
  return byEntity;
}

describe('subscribers end to end: HTTP appends -> relay -> Kafka -> subscriber, and the feed sources', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let url: string;
  let relay: RunningRelay;
  const managers: SubscriptionManager[] = [];
  const prefix = `${uniqueName('e2e')}.`;
  const kafkaHistory = new KafkaWalletHistory();
  const httpFeedHistory = new HttpFeedWalletHistory();
  const storeFeedHistory = new StoreFeedWalletHistory();
  const walletIds = Array.from({ length: ENTITIES }, (_, i) => `wallet-${i}`);

  beforeAll(async () => {
    db = testDatabase('e2e');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    app = buildApp({ store, closeStore: false, defaultMetrics: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await relay.stop();
    // A feed client that aborted its long poll can leave a connection the server never sees as idle
    // (reported to the server's owner); do not let it hold up the test's shutdown.
    app.server.closeAllConnections();
    await app.close();
    await store.close();
    await db.drop();
  });

  it('delivers every event once, in version order per entity, with 10 entities written concurrently over HTTP', async () => {
    const kafka = new SubscriptionManager({
      source: testKafkaSource(prefix),
      deadLetters: memoryDeadLetters(),
      subscribers: [kafkaHistory],
      logger: quiet,
    });
    managers.push(kafka);
    await kafka.start();
    expect(kafka.status()).toEqual([
      { subscriberId: 'walletHistoryKafka', entityTypes: ['Wallet'], running: true, state: 'running', error: undefined, sourceError: undefined, deadLetters: { failed: 0, parked: 0, parkedEntities: 0 } },
    ]);

    const wallets = new AggregateRepository(Wallet, new HttpEventStore({ url }));
    await Promise.all(
      walletIds.map(async (id) => {
        await wallets.save(new OpenWallet(id), { entityId: id });
        for (let n = 1; n <= DEPOSITS; n++) await wallets.update(id, new Deposit(n));
      }),
    );

    const total = ENTITIES * EVENTS_PER_ENTITY;
    await eventually(() => kafkaHistory.log.deliveries.length >= total, `${total} deliveries`, 60_000);
    await new Promise((r) => setTimeout(r, 300)); // anything extra would show up now
    const ids = kafkaHistory.log.deliveries.map((d) => d.eventId);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    const expected = Array.from({ length: EVENTS_PER_ENTITY }, (_, i) => i + 1);
    for (const id of walletIds) expect(versionsByEntity(kafkaHistory.log.deliveries)[id]).toEqual(expected);
  });

  it('the feed sources (HTTP /events and a store in process) deliver the same sequence per entity as Kafka', async () => {
    const cursors = postgresCursorStore({ connectionString: db.connectionString, schema: db.schema });
    const feeds = new SubscriptionManager({
      source: feedSource({ url, cursorStore: memoryCursorStore(), waitMs: 2000 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [httpFeedHistory],
      logger: quiet,
    });
    const inProcess = new SubscriptionManager({
      source: feedSource({ store, cursorStore: cursors, waitMs: 2000 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [storeFeedHistory],
      logger: quiet,
    });
    managers.push(feeds, inProcess);
    await feeds.start();
    await inProcess.start();

    const total = ENTITIES * EVENTS_PER_ENTITY;
    await eventually(() => httpFeedHistory.log.deliveries.length >= total && storeFeedHistory.log.deliveries.length >= total, 'both feeds caught up', 30_000);
    const kafkaOrder = versionsByEntity(kafkaHistory.log.deliveries);
    expect(versionsByEntity(httpFeedHistory.log.deliveries)).toEqual(kafkaOrder);
    expect(versionsByEntity(storeFeedHistory.log.deliveries)).toEqual(kafkaOrder);
    // The feed is one global commit order; both feed subscribers saw exactly it.
    expect(httpFeedHistory.log.deliveries.map((d) => d.eventId)).toEqual(storeFeedHistory.log.deliveries.map((d) => d.eventId));
    expect(new Set(httpFeedHistory.log.deliveries.map((d) => d.eventId))).toEqual(new Set(kafkaHistory.log.deliveries.map((d) => d.eventId)));

    // The in-process subscriber's cursor is durable: it is in the database, at the end of the feed.
    await inProcess.stop();
    const saved = await cursors.load('walletHistoryStoreFeed');
    expect(saved).toBeDefined();
    expect((await store.readFeed({ after: saved, entityTypes: ['Wallet'] })).events).toEqual([]);
    await cursors.close?.();

    // Where readFrom 'end' starts, read over HTTP: past every event written.
    const end = await endOfFeed(new HttpEventStore({ url }), { entityTypes: ['Wallet'] });
    expect((await store.readFeed({ after: end })).events).toEqual([]);
  });
});
