import { loadConfig } from '../../event-store-server/config';
import type { Command } from './command';
import { untilSignal } from '../support/signals';

export const command: Command = {
  description: 'run the event store server (embedded PostgreSQL unless DATABASE_URL is set)',
  async run() {
    const config = loadConfig();
    // Loaded here, not at the top: `help` reads every command, and a client-only install has no server packages.
    const { startServer } = await import('../../event-store-server/start-server');
    const server = await startServer(config, {
      onDatabase: (db) =>
        console.log(db.embedded ? `eventuate-local data: embedded PostgreSQL in ${db.location}` : `eventuate-local data: ${db.location} (schema ${config.schema})`),
    });
    console.log(`eventuate-local listening on ${server.url} (API docs: ${server.url}/docs)`);
    if (server.relay) console.log(`eventuate-local relay: publishing events to Kafka at ${config.kafkaBrokers.join(',')}`);
    await untilSignal();
    console.log('eventuate-local stopping');
    // A second Ctrl-C while stopping means "now".
    const force = () => process.exit(130);
    process.once('SIGINT', force).once('SIGTERM', force);
    await server.stop();
    console.log('eventuate-local stopped');
    return 0;
  },
};
