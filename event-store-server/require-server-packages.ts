/**
 * Imported first by the server's entry points (eventuate-local-ts/server, and the modules behind the CLI's
 * start, migrate and relay), before anything loads Fastify: a client-only install then gets one error
 * naming the packages to install.
 */
import { requirePackages, SERVER_PACKAGES } from './server-packages';

requirePackages('the event store server (eventuate-local-ts/server, eventuate-local start, migrate, relay)', SERVER_PACKAGES);
