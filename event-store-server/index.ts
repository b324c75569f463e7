/** eventuate-local-ts/server: the event store's HTTP API, its configuration and a one-call start. */
import './require-server-packages';
export { buildApp } from './app';
export type { AppOptions } from './app';
export { loadConfig, ConfigError, CONFIG_VARIABLES, configTableMarkdown, parseByteSize, DEFAULT_BODY_LIMIT } from './config';
export type { ServerConfig, ConfigVariable } from './config';
export { startServer, openDatabase } from './start-server';
export type { RunningServer, StartOptions, DatabaseHandle } from './start-server';
export { startEmbeddedPostgres, DataDirectoryInUseError, EmbeddedPostgresError } from './embedded-postgres';
export { StartupError } from './startup-error';
export { createLogger } from './logging';
export type { LogFormat, LoggerOptions } from './logging';
export type { EmbeddedPostgresOptions, RunningPostgres } from './embedded-postgres';
export type { ServerStore } from './server-store';
export { problemOf, PROBLEM_CONTENT_TYPE } from './problem';
export type { Problem, ProblemCode } from './problem';
