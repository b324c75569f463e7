import { ConfigError, loadConfig } from '../../event-store-server/config';
import { connectStore } from '../../event-store-server/connect-store';
import { createLogger } from '../../event-store-server/logging';
import type { Command } from './command';
import { untilSignal } from '../support/signals';

export const command: Command = {
  description: 'run only the event relay (database feed -> Kafka); needs DATABASE_URL and KAFKA_BROKERS',
  async run() {
    const config = loadConfig();
    const problems = [
      ...(config.databaseUrl ? [] : ['DATABASE_URL: the relay reads the server\'s database, so it must be given (the embedded one belongs to the server)']),
      ...(config.kafkaBrokers.length > 0 ? [] : ['KAFKA_BROKERS: the relay publishes to Kafka, so it must be given']),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    // Loaded here, not at the top: `help` reads every command, and a client-only install has no server packages.
    const { relayOptionsFromConfig, startRelay } = await import('../../event-store-server/relay');
    const store = await connectStore(config, config.databaseUrl!, 2);
    const relay = startRelay({ ...relayOptionsFromConfig(config), store, connectionString: config.databaseUrl!, logger });
    logger.info({ brokers: config.kafkaBrokers, schema: config.schema, topicPrefix: config.topicPrefix }, 'eventuate-local relay started');
    await untilSignal();
    // A second signal while stopping means "now".
    const force = () => process.exit(130);
    process.once('SIGINT', force).once('SIGTERM', force);
    await relay.stop();
    await store.close();
    logger.info('eventuate-local relay stopped');
    return 0;
  },
};
