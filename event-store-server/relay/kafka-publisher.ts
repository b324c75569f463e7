import { Kafka, logLevel, Producer, TopicMessages } from 'kafkajs';
import type { EventWithData } from '../../src/stored-event-text';
import { keyPartitioner } from './key-partitioner';
import { toKafkaMessage, topicFor, type KafkaMessage } from './kafka-message';
import { kafkaMessageBytes, MessageTooLargeError } from './message-size';

export interface KafkaPublisherOptions {
  brokers: string[];
  topicPrefix: string;
  clientId: string;
  /** How long one send may wait for the broker before it counts as failed. */
  requestTimeoutMs: number;
  /**
   * The largest message, and record batch, to send (the broker's `message.max.bytes` or below).
   * Kafka compares a partition's whole batch with its limit, not each message, so a batch of events
   * is sent in consecutive requests of at most this many bytes.
   */
  maxMessageBytes: number;
}

interface Chunk {
  events: EventWithData[];
  messages: Map<string, TopicMessages>;
}

/**
 * Publishes batches of feed events and resolves only once every partition leader and its
 * replicas acknowledged them (acks -1). One attempt per call: the relay owns the retrying.
 * An event over maxMessageBytes, or one the broker refuses as too large when sent alone, is a
 * MessageTooLargeError, thrown after every event before it was acknowledged.
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
      // Java-compatible murmur2 on the key, the partitioner Eventuate's other clients use (kafkajs's DefaultPartitioner's choice, faster).
      createPartitioner: keyPartitioner,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  /** Sends the events in order, in requests of at most maxMessageBytes, each acknowledged before the next is sent. */
  async publish(events: readonly EventWithData[]): Promise<void> {
    await this.connect();
    let chunk: Chunk = { events: [], messages: new Map() };
    let bytes = 0;
    for (const event of events) {
      const message = toKafkaMessage(event);
      const size = kafkaMessageBytes(message);
      if (size > this.options.maxMessageBytes) {
        await this.send(chunk);
        throw new MessageTooLargeError(event, size, this.options.maxMessageBytes);
      }
      if (bytes + size > this.options.maxMessageBytes) {
        await this.send(chunk);
        chunk = { events: [], messages: new Map() };
        bytes = 0;
      }
      const topic = topicFor(this.options.topicPrefix, event.entityType);
      let entry = chunk.messages.get(topic);
      if (!entry) chunk.messages.set(topic, (entry = { topic, messages: [] }));
      entry.messages.push(message);
      chunk.events.push(event);
      bytes += size;
    }
    await this.send(chunk);
  }

  private async send(chunk: Chunk): Promise<void> {
    if (chunk.events.length === 0) return;
    const topicMessages = [...chunk.messages.values()];
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.requestTimeoutMs });
    } catch (err) {
      // A producer that failed may hold broken connections; start the next attempt from a clean one.
      await this.disconnect();
      if (chunk.events.length === 1 && isMessageTooLarge(err)) {
        const [event] = chunk.events;
        throw new MessageTooLargeError(event, kafkaMessageBytes(topicMessages[0].messages[0] as KafkaMessage), undefined, { cause: err });
      }
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect().catch(() => undefined);
  }
}

/** Kafka's answers meaning "this record batch is larger than I take", as kafkajs reports them. */
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * True when the broker refused a send as too large. kafkajs wraps the protocol error (in
 * KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded or an aggregate), so the causes are searched.
 */
export function isMessageTooLarge(err: unknown): boolean {
  const seen = new Set<unknown>();
  const search = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const { type, cause, errors } = e as { type?: unknown; cause?: unknown; errors?: unknown };
    return (typeof type === 'string' && TOO_LARGE_TYPES.has(type)) || search(cause) || (Array.isArray(errors) && errors.some(search));
  };
  return search(err);
}
