import { Consumer, EachBatchPayload, Kafka, KafkaMessage, logLevel, PartitionAssigners } from 'kafkajs';
import { fromPublishedEvent, topicFor } from '../../src/published-event';
import { checkHeartbeat, heartbeatWhile } from './batch-heartbeat';
import { CompletionTracker, finishedPrefix } from './completion-tracker';
import type { DeadLetter } from './dead-letter-store';
import type { EventSource, RunningSubscription, Subscription } from './event-source';
import { entityKeyOf, type Delivery } from './event-settler';
import { KafkaStartAtEnd } from './kafka-start-at-end';
import { KeyedSerialQueue } from './keyed-serial-queue';
import { SUBSCRIBED_ROUND_ROBIN, subscribedRoundRobin } from './subscribed-round-robin-assigner';

export interface KafkaSourceOptions {
  brokers: string[];
  /** The relay's EVENTUATE_TOPIC_PREFIX. Default ''. */
  topicPrefix?: string;
  /**
   * Put before each subscriber id to name its consumer group. Default '': the subscriber id is the group.
   * Deployments that share a Kafka cluster (staging and production, tenants) give each its own, so one's
   * restarts never pause the other's consumers for a rebalance. Changing it on a running subscriber starts a
   * new group, which begins where the subscriber's readFrom says, not at the old group's offsets.
   */
  groupIdPrefix?: string;
  clientId?: string;
  /** A member silent this long is thrown out of its group. Default 30000 ms. */
  sessionTimeoutMs?: number;
  /** Heartbeats, also sent while a slow handler runs; at most a third of sessionTimeoutMs. Default 3000 ms. */
  heartbeatIntervalMs?: number;
  /**
   * Partitions whose batches are handled at once. Default 1: entities within a batch already run
   * concurrently, and more made kafkajs fetch slower in measurements; raise it for slow handlers.
   */
  partitionsConsumedConcurrently?: number;
  /** Handlers running at once within a batch (one per entity at a time). Default 16. */
  maxConcurrentHandlers?: number;
  /**
   * Longest a fetch waits at the broker for new messages. Kafka answers as soon as there are any;
   * brokers that hold every fetch this long (librdkafka's mock) add it to the latency. Default 50 ms.
   */
  maxWaitTimeMs?: number;
}

/**
 * Subscribers fed from the relay's topics; the subscriber id is the consumer group, whose members
 * may subscribe to different topics (subscribed-round-robin-assigner.ts). Offsets are
 * resolved only up to the last message before which every message was settled (handled, or
 * dead-lettered or parked in the store), and committed from there: a crash re-delivers, never
 * skips. A group without committed offsets starts where the subscriber's readFrom says.
 */
export function kafkaSource(options: KafkaSourceOptions): EventSource {
  checkHeartbeat(options.heartbeatIntervalMs ?? 3000, options.sessionTimeoutMs ?? 30_000);
  return {
    description: `Kafka ${options.brokers.join(',')}`,
    start: (subscription) => KafkaSubscription.start(options, subscription),
  };
}

class KafkaSubscription implements RunningSubscription {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly stopping = new AbortController();
  private halted = false;
  private readonly topicPrefix: string;
  private readonly groupId: string;
  private readonly heartbeatIntervalMs: number;
  private readonly maxConcurrentHandlers: number;
  /** `topic/partition` of the partitions this member is assigned. */
  private assigned = new Set<string>();

  static async start(options: KafkaSourceOptions, subscription: Subscription): Promise<KafkaSubscription> {
    const running = new KafkaSubscription(options, subscription);
    await running.run(options);
    return running;
  }

  private constructor(
    options: KafkaSourceOptions,
    private readonly subscription: Subscription,
  ) {
    this.topicPrefix = options.topicPrefix ?? '';
    this.groupId = `${options.groupIdPrefix ?? ''}${subscription.subscriberId}`;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.maxConcurrentHandlers = options.maxConcurrentHandlers ?? 16;
    const kafka = new Kafka({ clientId: options.clientId ?? subscription.subscriberId, brokers: options.brokers, logLevel: logLevel.NOTHING });
    this.kafka = kafka;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 50,
      allowAutoTopicCreation: true,
      // Preferred in this order; kafkajs's round-robin only while a member that lacks the first (an older version) is in the group.
      partitionAssigners: [subscribedRoundRobin, PartitionAssigners.roundRobin],
    });
  }

  private async run(options: KafkaSourceOptions): Promise<void> {
    const { subscriberId, readFrom, settler, logger } = this.subscription;
    const topics = this.subscription.entityTypes.map((type) => topicFor(this.topicPrefix, type));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) return this.halt(payload.error);
      // kafkajs reconnects by itself (a broker gone, a coordinator moved): visible in the status until it has rejoined.
      logger.warn({ subscriberId, err: payload.error }, 'Kafka consumer crashed; it restarts');
      this.subscription.onSourceError(payload.error);
    });
    let assignment: Record<string, number[]> = {};
    // Partitions assigned to this member of topics it does not read: kafkajs drops them, and nobody in the group consumes them.
    let dropped: string[] = [];
    this.consumer.on(this.consumer.events.RECEIVED_UNSUBSCRIBED_TOPICS, ({ payload }) => {
      dropped = payload.topicsNotSubscribed;
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      if (dropped.length > 0) {
        const error = new Error(
          `consumer group ${this.groupId} (assigner ${payload.groupProtocol}) assigned this member partitions of ${dropped.join(', ')}, which it does not read: nobody in the group consumes them. ` +
            `Members of one group that read different topics need every member to assign with ${SUBSCRIBED_ROUND_ROBIN} (kafkaSource of this version or later): ` +
            `upgrade or stop the older members, or give subscribers that read different topics different ids`,
        );
        logger.error({ subscriberId, err: error }, 'Kafka partitions assigned to this member go unconsumed');
        this.subscription.onSourceError(error);
        dropped = [];
      } else {
        this.subscription.onSourceRecovered();
      }
      assignment = payload.memberAssignment;
      this.assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}/${p}`)));
      // Partitions new to this member may hold entities another member parked; batches wait for the reload.
      void settler.reloadParked().catch((err: unknown) => this.halt(err instanceof Error ? err : new Error(String(err))));
    });
    // Only the member whose partition holds an entity retries and releases its dead letters: its live events arrive there.
    settler.setOwnership((letter: DeadLetter) => letter.origin.source !== 'kafka' || this.assigned.has(`${letter.origin.topic}/${letter.origin.partition}`));
    await this.consumer.connect();
    // Only partitions without a committed offset start at the beginning or the end.
    await this.consumer.subscribe({ topics, fromBeginning: readFrom === 'beginning' });
    const atEnd = readFrom === 'end' ? await KafkaStartAtEnd.prepare(this.kafka, this.groupId, topics) : undefined;
    try {
      await this.consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: true,
        autoCommitInterval: 1000,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.handleBatch(payload),
      });
      const committed = await atEnd?.commit(this.consumer, assignment);
      if (committed?.length) logger.info({ subscriberId, offsets: committed }, 'new consumer group starts at the end of its topics (readFrom: end)');
    } finally {
      await atEnd?.close();
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.halted) return;
    const signal = this.stopping.signal;
    const messages = batch.messages;
    const tracker = new CompletionTracker(messages.length);
    const queue = new KeyedSerialQueue(this.maxConcurrentHandlers);
    const settleTogether = async () => {
      if (this.halted || signal.aborted || !isRunning() || isStale()) return;
      const deliveries = messages.map((message) => this.deliveryOf(batch.topic, batch.partition, message));
      const settlements = await this.subscription.settler.settleBatch(deliveries, signal);
      const done = finishedPrefix(settlements);
      if (done > 0) resolveOffset(messages[done - 1].offset);
      const halted = settlements.find((s) => s.kind === 'halted');
      if (halted?.kind === 'halted') this.halt(halted.error);
    };
    const settleEach = async () => {
      await Promise.all(
        messages.map((message, index) =>
          queue.run(message.key?.toString() ?? '', async () => {
            if (this.halted || signal.aborted || !isRunning() || isStale()) return;
            const settled = await this.subscription.settler.settle(this.deliveryOf(batch.topic, batch.partition, message), signal);
            if (settled.kind === 'interrupted') return;
            if (settled.kind === 'halted') return this.halt(settled.error);
            const last = tracker.complete(index);
            if (last !== undefined) resolveOffset(messages[last].offset);
          }),
        ),
      );
    };
    await heartbeatWhile(this.subscription.settler.batches ? settleTogether : settleEach, {
      intervalMs: this.heartbeatIntervalMs,
      heartbeat,
      onError: (err) => this.subscription.logger.warn({ subscriberId: this.subscription.subscriberId, err }, 'heartbeat failed during a batch'),
    });
    await commitOffsetsIfNecessary();
  }

  /** The event in a message, or the message as one that is not an event: dead-lettered by the policy, never skipped. */
  private deliveryOf(topic: string, partition: number, message: KafkaMessage): Delivery {
    const origin = { source: 'kafka' as const, topic, partition, offset: message.offset };
    const text = message.value?.toString() ?? '';
    try {
      return { event: fromPublishedEvent(text), origin };
    } catch (err) {
      const id = `${topic}/${partition}@${message.offset}`;
      const reason = message.value === null ? 'it has no value' : (err as Error).message;
      const error = new Error(`Kafka message ${id} is not an event the relay publishes (${reason}); no handler can take it: discard it once you know where it came from`);
      error.name = 'UnreadableMessageError';
      const entityType = topic.startsWith(this.topicPrefix) ? topic.slice(this.topicPrefix.length).replace(/_DLR_/g, '$') : topic;
      return { unreadable: { id, entityKey: entityKeyOf(entityType, message.key?.toString() ?? ''), text, error }, origin };
    }
  }

  private halt(error: Error): void {
    if (this.halted) return;
    this.halted = true;
    this.subscription.logger.error({ err: error, subscriberId: this.subscription.subscriberId }, 'subscriber stopped');
    // Not awaited: disconnecting waits for the batch in progress, which may be the caller.
    setImmediate(() => {
      void this.stop().finally(() => this.subscription.onHalted(error));
    });
  }
}
