import { Kafka, logLevel, Partitioners, Producer, TopicMessages } from 'kafkajs';
import type { StoredEvent } from '../../src/model';
import { toKafkaMessage, topicFor } from './kafka-message';

export interface KafkaPublisherOptions {
  brokers: string[];
  topicPrefix: string;
  clientId: string;
  /** How long one send may wait for the broker before it counts as failed. */
  requestTimeoutMs: number;
}

/**
 * Publishes batches of feed events and resolves only once every partition leader and its
 * replicas acknowledged them (acks -1). One attempt per call: the relay owns the retrying.
 * Neither the idempotent producer nor the admin client is used, so brokers that lack them work.
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(private readonly options: KafkaPublisherOptions) {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: Math.min(3000, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.producer = kafka.producer({
      allowAutoTopicCreation: true,
      idempotent: false,
      // Java-compatible murmur2 on the key, the partitioner Eventuate's other clients use.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async publish(events: readonly StoredEvent[]): Promise<void> {
    await this.connect();
    const byTopic = new Map<string, TopicMessages>();
    for (const event of events) {
      const topic = topicFor(this.options.topicPrefix, event.entityType);
      let entry = byTopic.get(topic);
      if (!entry) byTopic.set(topic, (entry = { topic, messages: [] }));
      entry.messages.push(toKafkaMessage(event));
    }
    try {
      await this.producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1, timeout: this.options.requestTimeoutMs });
    } catch (err) {
      // A producer that failed may hold broken connections; start the next attempt from a clean one.
      await this.disconnect();
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect().catch(() => undefined);
  }
}
