import { Kafka, logLevel, PartitionAssigners, type Consumer, type PartitionAssigner } from 'kafkajs';
import pino from 'pino';
import { AggregateRepository, EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, memoryDeadLetters } from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { eventually, kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { SUBSCRIBED_ROUND_ROBIN } from '../../client/subscriptions/subscribed-round-robin-assigner';
import { OpenWallet, Wallet, WalletOpened } from './wallet-domain';

const quiet = pino({ level: 'silent' });

/** One deployment: its own schema, relay and topic prefix. */
interface Deployment {
  db: TestDatabase;
  store: PostgresEventStore;
  relay: RunningRelay;
  prefix: string;
}

/** A subscriber class with the id given, which notes the wallets opened. */
function openingsSeenBy(subscriberId: string) {
  @EventSubscriber(subscriberId)
  class Openings {
    readonly seen: string[] = [];
    @EventHandlerMethod(WalletOpened)
    opened(ctx: EventHandlerContext<WalletOpened>) {
      this.seen.push(ctx.entityId);
    }
  }
  return Openings;
}

describe('kafkaSource: members of one consumer group that read different topics', () => {
  const deployments: Deployment[] = [];
  const managers: SubscriptionManager[] = [];

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    for (const { relay, store, db } of deployments) {
      await relay.stop();
      await store.close();
      await db.drop();
    }
  });

  it('two deployments with different topic prefixes and the same subscriber id each get every event of their own topics, once', async () => {
    // The same subscriber id in both, as when staging and production share a Kafka cluster.
    const Openings = openingsSeenBy(uniqueName('shared'));
    const subscribers: Array<InstanceType<typeof Openings>> = [];
    for (const name of ['staging', 'production']) {
      const db = testDatabase(name);
      const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 3 });
      const prefix = `${uniqueName(name)}.`;
      const relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
      deployments.push({ db, store, relay, prefix });
      const subscriber = new Openings();
      subscribers.push(subscriber);
      const manager = new SubscriptionManager({
        source: testKafkaSource(prefix, { groupIdPrefix: '' }),
        deadLetters: memoryDeadLetters(),
        subscribers: [subscriber],
        logger: quiet,
      });
      managers.push(manager);
      await manager.start();
    }

    const written = await Promise.all(
      deployments.map(async ({ store }, index) => {
        const wallets = new AggregateRepository(Wallet, store);
        const ids = Array.from({ length: 6 }, (_, i) => `${index === 0 ? 'staging' : 'production'}-${i}`);
        for (const id of ids) await wallets.save(new OpenWallet(id), { entityId: id });
        return ids;
      }),
    );

    // kafkajs's own round-robin hands the leader's topics to both members and the other deployment's to nobody:
    // one of the two would wait here forever, and the other would miss the events of the partitions it dropped.
    await eventually(() => subscribers.every((s, i) => s.seen.length >= written[i].length), 'each deployment’s subscriber saw its wallets', 45_000);
    await new Promise((r) => setTimeout(r, 1000)); // a stray or repeated delivery would show by now
    subscribers.forEach((subscriber, i) => expect([...subscriber.seen].sort()).toEqual([...written[i]].sort()));
  });

  it('a member handed partitions of a topic it does not read says so in its status: nobody in the group would consume them', async () => {
    const subscriberId = uniqueName('mixed');
    const prefix = `${uniqueName('mixed')}.`;
    // A member that assigns as kafkajs's round-robin does (every partition of the leader's topics to anyone) under
    // the group protocol kafkaSource prefers, as an older member would under kafkajs's own: librdkafka's mock
    // broker stops serving when members of one group offer different protocols, so the older version's own
    // protocol cannot be shown here. It joins first and leads the group, reading another deployment's topic.
    // It answers a second late: the mock broker refuses a member's SyncGroup that arrives after the leader's, and
    // the member's rejoin starts another rebalance; real brokers hold the assignment for it.
    const asKafkajs: PartitionAssigner = (config) => {
      const roundRobin = PartitionAssigners.roundRobin(config);
      return {
        ...roundRobin,
        name: SUBSCRIBED_ROUND_ROBIN,
        assign: async (group) => (await new Promise((r) => setTimeout(r, 1000)), roundRobin.assign(group)),
        protocol: (subscription) => ({ ...roundRobin.protocol(subscription), name: SUBSCRIBED_ROUND_ROBIN }),
      };
    };
    const leader: Consumer = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).consumer({
      groupId: subscriberId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      partitionAssigners: [asKafkajs, PartitionAssigners.roundRobin],
    });
    const leaderTopic = `${uniqueName('other')}.Wallet`;
    await leader.connect();
    await leader.subscribe({ topics: [leaderTopic] });
    let leaderJoined = false;
    leader.on(leader.events.GROUP_JOIN, () => (leaderJoined = true));
    await leader.run({ eachMessage: async () => undefined });
    try {
      await eventually(() => leaderJoined, 'the leading member joined its group');
      @EventSubscriber(subscriberId)
      class Openings {
        @EventHandlerMethod(WalletOpened)
        opened() {}
      }
      const manager = new SubscriptionManager({
        source: testKafkaSource(prefix, { groupIdPrefix: '' }),
        deadLetters: memoryDeadLetters(),
        subscribers: [new Openings()],
        logger: quiet,
      });
      managers.push(manager);
      await manager.start();
      await eventually(() => manager.status()[0].sourceError !== undefined, 'the member reports the partitions it was handed and cannot read', 45_000);
      expect(manager.status()[0].sourceError!.message).toMatch(
        new RegExp(
          `^consumer group ${subscriberId} \\(assigner ${SUBSCRIBED_ROUND_ROBIN}\\) assigned this member partitions of ${leaderTopic.replace(/\./g, '\\.')}, which it does not read: nobody in the group consumes them\\. .*upgrade or stop the older members`,
        ),
      );
    } finally {
      await leader.disconnect();
    }
  });

  it('subscribers with one id and different groupIdPrefixes are different consumer groups: each gets every event', async () => {
    const Openings = openingsSeenBy(uniqueName('apart'));
    const db = testDatabase('apart');
    const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 3 });
    const prefix = `${uniqueName('apart')}.`;
    const relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
    deployments.push({ db, store, relay, prefix });
    const subscribers = [new Openings(), new Openings()];
    for (const [i, subscriber] of subscribers.entries()) {
      // Sharing one group, the two would split the topic's partitions between them.
      const manager = new SubscriptionManager({ source: testKafkaSource(prefix, { groupIdPrefix: `${prefix}${i}.` }), deadLetters: memoryDeadLetters(), subscribers: [subscriber], logger: quiet });
      managers.push(manager);
      await manager.start();
    }
    const wallets = new AggregateRepository(Wallet, store);
    const ids = Array.from({ length: 8 }, (_, i) => `apart-${i}`);
    for (const id of ids) await wallets.save(new OpenWallet(id), { entityId: id });

    await eventually(() => subscribers.every((s) => s.seen.length >= ids.length), 'both subscribers saw every wallet', 45_000);
    subscribers.forEach((subscriber) => expect([...subscriber.seen].sort()).toEqual([...ids].sort()));
  });
});
