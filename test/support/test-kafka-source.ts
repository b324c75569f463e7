import { kafkaSource, type EventSource, type KafkaSourceOptions } from '../../client';
import { kafkaBrokers } from './kafka-collector';

/**
 * kafkaSource on the tests' broker for one test file's topics (`prefix`), its consumer groups named
 * with the same prefix. Saga subscriber ids are fixed, so without it the files that run sagas through
 * Kafka would share groups, and librdkafka's mock broker handles a shared group badly: a member whose
 * SyncGroup arrives after the leader's gets REBALANCE_IN_PROGRESS and rejoins, and each rejoin waits
 * almost a session timeout, so under load a group could rebalance for minutes. Short sessions, so that
 * a member in a killed process leaves its group soon.
 */
export function testKafkaSource(prefix: string, options: Partial<KafkaSourceOptions> = {}): EventSource {
  return kafkaSource({ brokers: kafkaBrokers(), topicPrefix: prefix, groupIdPrefix: prefix, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, ...options });
}
