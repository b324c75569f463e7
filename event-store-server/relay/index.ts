/** The event relay: the event store's feed → Kafka, one publishing leader among all relays of a database. */
import '../require-server-packages';
import type { ClientConfig } from 'pg';
import pino, { type Logger } from 'pino';
import { ServiceUnavailableError, ValidationError } from '../../src/errors';
import { MAX_PAGE_SIZE } from '../../src/model';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config';
import { connectionSettings } from '../database-settings';
import { EventRelay, type BatchPublisher, type FeedReader, type RelayStatus } from './event-relay';
import { KafkaPublisher } from './kafka-publisher';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-size';
import { registerRelayMetrics } from './relay-metrics';

export type { BatchPublisher, RelayHalt, RelayStatus, FeedReader } from './event-relay';
export { topicFor, toKafkaMessage, toPublishedEvent } from './kafka-message';
export type { PublishedEvent } from './kafka-message';
export { isMessageTooLarge } from './kafka-publisher';
export { DEFAULT_MAX_MESSAGE_BYTES, MessageTooLargeError, storedEventMessageBytes } from './message-size';

/**
 * The feed's largest page: under a backlog, batches of 1,000 relayed 1.3-1.6× as many events a second
 * as batches of 500 (measured with the mock broker); a relay that is caught up sends what it finds.
 */
export const DEFAULT_RELAY_BATCH_SIZE = MAX_PAGE_SIZE;

export interface RelayOptions {
  /** The store whose feed is published (it must read the database at connectionString/schema). */
  store: FeedReader;
  connectionString: string;
  /** Settings of the relay's own connection (the leadership lock): timeouts, keepalive. */
  connection?: Omit<ClientConfig, 'connectionString'>;
  /** Default `eventuate`. */
  schema?: string;
  brokers: string[];
  /** Topic = prefix + entity type. Default ''. */
  topicPrefix?: string;
  /** Relays with one name share a cursor and elect one leader. Default `eventuate-relay`. */
  relayName?: string;
  logger?: Logger;
  /** Events per feed read and Kafka batch, at most the feed's largest page. Default DEFAULT_RELAY_BATCH_SIZE. */
  batchSize?: number;
  /** The fallback poll when no commit notification arrives. Default 5000 ms. */
  idleWaitMs?: number;
  /** How often a standby relay tries to take over. Default 1000 ms. */
  leaderPollMs?: number;
  /**
   * How long a leader that stopped answering (frozen, cut off) keeps the leadership before a standby
   * can take over; also how soon a leader whose lock session broke stops by itself. Default 15000 ms.
   */
  lockTimeoutMs?: number;
  /** The largest Kafka message (framing included) the relay sends; an event over it halts the relay. Default 1,000,000. */
  maxMessageBytes?: number;
  /** Ids of events not to publish: an operator's answer to a halt (each skip is logged). */
  skipEventIds?: Iterable<string>;
  /** Sends the batches, and enforces the message limit; default a KafkaPublisher on `brokers` with maxMessageBytes. */
  publisher?: BatchPublisher;
  /** How often lag is measured. Default 2000 ms. */
  lagIntervalMs?: number;
  /** Backoff between failed attempts. Default 100 ms doubling up to 10 s. */
  retry?: { baseMs?: number; maxMs?: number };
  /** Longest wait for one Kafka acknowledgement. Default 10000 ms. */
  requestTimeoutMs?: number;
}

export interface RunningRelay {
  status(): RelayStatus;
  /** Adds the relay's gauges (lag, leader, ready) to a Prometheus registry. */
  registerMetrics(registry: Registry): void;
  /** Throws while the relay is not ready; for a server's /ready. */
  checkReady(): Promise<void>;
  /** Finishes the batch in flight, releases leadership, disconnects. */
  stop(): Promise<void>;
}

export function startRelay(options: RelayOptions): RunningRelay {
  const relayName = options.relayName ?? 'eventuate-relay';
  const logger = (options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' })).child({ component: 'relay' });
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // Checked here: the feed would refuse every read of a larger page, and the relay retry for ever.
  const batchSize = options.batchSize ?? DEFAULT_RELAY_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_PAGE_SIZE) {
    throw new ValidationError(`the relay's batchSize must be an integer from 1 to ${MAX_PAGE_SIZE} (the feed's largest page), not ${batchSize}`, { field: 'batchSize' });
  }
  const relay = new EventRelay({
    store: options.store,
    publisher:
      options.publisher ??
      new KafkaPublisher({ brokers: options.brokers, topicPrefix: options.topicPrefix ?? '', clientId: relayName, requestTimeoutMs, maxMessageBytes }),
    connectionString: options.connectionString,
    connection: options.connection ?? {},
    schema: options.schema ?? 'eventuate',
    relayName,
    logger,
    batchSize,
    idleWaitMs: options.idleWaitMs ?? 5000,
    leaderPollMs: options.leaderPollMs ?? 1000,
    lockTimeoutMs: options.lockTimeoutMs ?? 15_000,
    skipEventIds: new Set(options.skipEventIds ?? []),
    lagIntervalMs: options.lagIntervalMs ?? 2000,
    retry: { baseMs: options.retry?.baseMs ?? 100, maxMs: options.retry?.maxMs ?? 10_000 },
  });
  relay.start();
  return {
    status: () => relay.status(),
    registerMetrics: (registry) => registerRelayMetrics(registry, () => relay.status()),
    async checkReady() {
      const status = relay.status();
      if (status.halted) {
        // /ready's callers may be unauthenticated: the event's identity and the fix go to the log and the cause.
        throw new ServiceUnavailableError('not ready: the event relay halted at an event too large for Kafka; its log names the event and the fix', {}, { cause: status.halted.message });
      }
      // The message reaches /ready's unauthenticated callers; the broker's error (with its address) is the cause, for the log.
      if (!status.ready) throw new ServiceUnavailableError('not ready: the event relay cannot publish to Kafka', {}, { cause: status.lastError });
    },
    stop: () => relay.stop(),
  };
}

/** The relay's options that the server's environment sets (see CONFIG_VARIABLES). */
export function relayOptionsFromConfig(
  config: ServerConfig,
): Pick<RelayOptions, 'connection' | 'schema' | 'brokers' | 'topicPrefix' | 'leaderPollMs' | 'lockTimeoutMs' | 'maxMessageBytes' | 'skipEventIds'> {
  return {
    connection: connectionSettings(config.dbTimeouts),
    schema: config.schema,
    brokers: config.kafkaBrokers,
    topicPrefix: config.topicPrefix,
    leaderPollMs: config.relayLeaderPollMs,
    lockTimeoutMs: config.relayLockTimeoutMs,
    maxMessageBytes: config.relayMaxMessageBytes,
    skipEventIds: config.relaySkipEventIds,
  };
}
