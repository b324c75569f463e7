import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, logLevel, Partitioners, Producer } from 'kafkajs';
import type { StoredEvent } from '../../src/model';
import { fromPublishedEvent, topicFor } from '../../src/published-event';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { CompletionTracker } from './completion-tracker';
import { SubscriberHaltedError, type EventSource, type RunningSubscription, type Subscription } from './event-source';
import { KafkaStartAtEnd } from './kafka-start-at-end';
import { KeyedSerialQueue } from './keyed-serial-queue';

export interface KafkaSourceOptions {
  brokers: string[];
  /** The relay's EVENTUATE_TOPIC_PREFIX. Default ''. */
  topicPrefix?: string;
  clientId?: string;
  /** A member silent this long is thrown out of its group. Default 30000 ms. */
  sessionTimeoutMs?: number;
  /** Heartbeats, also sent while a slow handler runs. Default 3000 ms. */
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

/** The dead-letter topic of a subscriber: one per subscriber, since an event poisons a handler, not a topic. */
export function deadLetterTopicFor(topicPrefix: string, subscriberId: string): string {
  return `${topicPrefix}${subscriberId}.dlq`;
}

/**
 * Subscribers fed from the relay's topics; the subscriber id is the consumer group. Offsets are
 * resolved only up to the last message before which every handler succeeded, and committed from
 * there: a crash re-delivers, never skips. A group without committed offsets starts where the
 * subscriber's readFrom says.
 */
export function kafkaSource(options: KafkaSourceOptions): EventSource {
  return {
    description: `Kafka ${options.brokers.join(',')}`,
    start: (subscription) => KafkaSubscription.start(options, subscription),
  };
}

class KafkaSubscription implements RunningSubscription {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private producerConnected = false;
  private readonly stopping = new AbortController();
  private halted = false;
  private readonly topicPrefix: string;
  private readonly heartbeatIntervalMs: number;
  private readonly maxConcurrentHandlers: number;

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
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.maxConcurrentHandlers = options.maxConcurrentHandlers ?? 16;
    const kafka = new Kafka({ clientId: options.clientId ?? subscription.dispatcher.subscriberId, brokers: options.brokers, logLevel: logLevel.NOTHING });
    this.kafka = kafka;
    this.consumer = kafka.consumer({
      groupId: subscription.dispatcher.subscriberId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 50,
      allowAutoTopicCreation: true,
    });
    this.producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  }

  private async run(options: KafkaSourceOptions): Promise<void> {
    const { subscriberId, model } = this.subscription.dispatcher;
    const topics = this.subscription.entityTypes.map((type) => topicFor(this.topicPrefix, type));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.halt(payload.error);
    });
    let assignment: Record<string, number[]> = {};
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      assignment = payload.memberAssignment;
    });
    await this.consumer.connect();
    // Only partitions without a committed offset start at the beginning or the end.
    await this.consumer.subscribe({ topics, fromBeginning: model.readFrom === 'beginning' });
    const atEnd = model.readFrom === 'end' ? await KafkaStartAtEnd.prepare(this.kafka, subscriberId, topics) : undefined;
    try {
      await this.consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: true,
        autoCommitInterval: 1000,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.handleBatch(payload),
      });
      const committed = await atEnd?.commit(this.consumer, assignment);
      if (committed?.length) this.subscription.logger.info({ subscriberId, offsets: committed }, 'new consumer group starts at the end of its topics (readFrom: end)');
    } finally {
      await atEnd?.close();
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.halted) return;
    const messages = batch.messages;
    const tracker = new CompletionTracker(messages.length);
    const queue = new KeyedSerialQueue(this.maxConcurrentHandlers);
    // A handler slower than the session timeout must not get the group to re-deliver its batch.
    const beating = setInterval(() => heartbeat().catch(() => undefined), this.heartbeatIntervalMs);
    try {
      await Promise.all(
        messages.map((message, index) =>
          queue.run(message.key?.toString() ?? '', async () => {
            if (this.halted || this.stopping.signal.aborted || !isRunning() || isStale()) return;
            if (!(await this.handleMessage(batch.topic, batch.partition, message))) return;
            const last = tracker.complete(index);
            if (last !== undefined) resolveOffset(messages[last].offset);
          }),
        ),
      );
    } finally {
      clearInterval(beating);
    }
    await commitOffsetsIfNecessary();
  }

  /** True when the message is done with (handled, skipped or dead-lettered); false when the subscriber halted. */
  private async handleMessage(topic: string, partition: number, message: KafkaMessage): Promise<boolean> {
    const { dispatcher } = this.subscription;
    let event: StoredEvent;
    let outcome;
    try {
      event = fromPublishedEvent(message.value?.toString() ?? '');
      outcome = await dispatcher.dispatch(event, this.stopping.signal);
    } catch (err) {
      // Not an event at all: no handler can ever take it.
      outcome = { kind: 'failed' as const, error: err instanceof Error ? err : new Error(String(err)), attempts: 1 };
    }
    if (outcome.kind !== 'failed') return true;
    if (this.stopping.signal.aborted) return false;
    const eventId = message.headers?.['event-id']?.toString() ?? `${topic}/${partition}@${message.offset}`;
    if (dispatcher.model.onFailure === 'stop') {
      this.halt(new SubscriberHaltedError(dispatcher.subscriberId, eventId, outcome.error));
      return false;
    }
    return this.deadLetter(topic, partition, message, outcome.error, outcome.attempts);
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: Error, attempts: number): Promise<boolean> {
    const dlq = deadLetterTopicFor(this.topicPrefix, this.subscription.dispatcher.subscriberId);
    const headers: IHeaders = {
      ...message.headers,
      'dlq-subscriber-id': this.subscription.dispatcher.subscriberId,
      'dlq-topic': topic,
      'dlq-partition': String(partition),
      'dlq-offset': message.offset,
      'dlq-attempts': String(attempts),
      'dlq-error': error.message.slice(0, 4000),
      'dlq-failed-at': new Date().toISOString(),
    };
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        if (!this.producerConnected) {
          await this.producer.connect();
          this.producerConnected = true;
        }
        await this.producer.send({ topic: dlq, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
        this.subscription.logger.error({ subscriberId: this.subscription.dispatcher.subscriberId, dlq, topic, offset: message.offset, err: error }, 'event moved to the dead-letter topic');
        return true;
      } catch (err) {
        this.producerConnected = false;
        this.subscription.logger.warn({ err, dlq }, 'cannot write to the dead-letter topic; retrying');
        await sleep(jitteredBackoffMs(attempt, { baseMs: 100, maxMs: 5000 }), this.stopping.signal);
      }
    }
    return false;
  }

  private halt(error: Error): void {
    if (this.halted) return;
    this.halted = true;
    this.subscription.logger.error({ err: error, subscriberId: this.subscription.dispatcher.subscriberId }, 'subscriber stopped');
    // Not awaited: disconnecting waits for the batch in progress, which may be the caller.
    setImmediate(() => {
      void this.stop().finally(() => this.subscription.onHalted(error));
    });
  }
}
