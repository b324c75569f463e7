/**
 * The server's configuration, from environment variables only. Every variable it reads is listed in
 * CONFIG_VARIABLES (name, default, meaning), which the README's table and `eventuate-local help` show.
 */
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './database-settings';
import { LOG_FORMATS, type LogFormat } from './logging';
import { DEFAULT_WRITE_CONNECTIONS } from '../src/postgres/postgres-event-store';

// No import of the Fastify app here: the CLI reads this module for every command, including the ones a
// client-only install (without the server's packages) runs.

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_READY_TIMEOUT_MS = 800;
export const DEFAULT_MAX_FEED_STREAMS = 1000;
export const DEFAULT_MAX_LONG_POLLS = 1000;

export interface ConfigVariable {
  name: string;
  /** As a user would write it; undefined: unset by default. */
  default?: string;
  description: string;
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '8080', description: 'TCP port of the HTTP API (0: any free port).' },
  {
    name: 'HOST',
    default: '127.0.0.1',
    description: 'Interface to listen on. The default accepts local connections only; set 0.0.0.0 to serve the network (as the Docker image does).',
  },
  { name: 'DATABASE_URL', description: 'PostgreSQL connection string. Unset: an embedded PostgreSQL is started with its data under EVENTUATE_DATA_DIR.' },
  { name: 'EVENTUATE_DATA_DIR', default: '.eventuate', description: 'Where the embedded PostgreSQL keeps its data (survives restarts). Unused with DATABASE_URL.' },
  { name: 'EVENTUATE_SCHEMA', default: 'eventuate', description: 'PostgreSQL schema of the event store tables.' },
  { name: 'EVENTUATE_API_KEYS', description: 'Comma-separated API keys. Set: every route but /health and /ready needs `Authorization: Bearer <key>`.' },
  { name: 'EVENTUATE_BODY_LIMIT', default: '5mb', description: 'Largest request body: bytes, or with a kb/mb suffix.' },
  {
    name: 'EVENTUATE_REQUEST_TIMEOUT_MS',
    default: String(DEFAULT_REQUEST_TIMEOUT_MS),
    description: 'Longest time to receive a whole request, headers and body; a slower one gets 408 and its connection is closed. Long polls and streams are not affected (it bounds receiving, not answering).',
  },
  {
    name: 'EVENTUATE_MAX_CONNECTIONS',
    default: String(DEFAULT_MAX_CONNECTIONS),
    description: 'Open HTTP connections at most (each may hold a request body of up to EVENTUATE_BODY_LIMIT); further ones are closed at once. Keep it below the process\'s open-file limit.',
  },
  {
    name: 'EVENTUATE_DB_CONNECT_TIMEOUT_MS',
    default: String(DEFAULT_DATABASE_TIMEOUTS.connectTimeoutMs),
    description: 'Longest wait to connect to PostgreSQL, or for a free connection of a full pool; then 503 service_unavailable. 0: no limit.',
  },
  {
    name: 'EVENTUATE_DB_STATEMENT_TIMEOUT_MS',
    default: String(DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs),
    description: 'PostgreSQL cancels a statement of the server running longer (statement_timeout); then 503. Migrations are exempt. 0: no limit.',
  },
  {
    name: 'EVENTUATE_DB_QUERY_TIMEOUT_MS',
    default: String(DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs),
    description: 'Longest wait for PostgreSQL to answer a statement, for when it cannot cancel anything itself (frozen, or cut off by the network); then 503 and the connection is dropped. Above EVENTUATE_DB_STATEMENT_TIMEOUT_MS. 0: no limit.',
  },
  {
    name: 'EVENTUATE_DB_KEEPALIVE_MS',
    default: String(DEFAULT_DATABASE_TIMEOUTS.keepAliveMs),
    description: 'Idle time after which TCP keepalive probes check every PostgreSQL connection (the LISTEN and relay-lock ones too), so one to a vanished host is noticed.',
  },
  {
    name: 'EVENTUATE_READY_TIMEOUT_MS',
    default: String(DEFAULT_READY_TIMEOUT_MS),
    description: '/ready answers 503 when its checks (the database first) take longer, so it answers within about this long whatever the database does.',
  },
  {
    name: 'EVENTUATE_DB_POOL_SIZE',
    default: '20',
    description: 'PostgreSQL connections for entity reads, the diagnosis of refused appends, commit announcements, /ready and the one feed tail.',
  },
  {
    name: 'EVENTUATE_DB_WRITE_CONNECTIONS',
    default: String(DEFAULT_WRITE_CONNECTIONS),
    description:
      'PostgreSQL connections that commit creates and appends. Appends arriving while all are busy wait and are committed together, one transaction for the group, each keeping its own outcome: fewer connections make bigger groups.',
  },
  {
    name: 'EVENTUATE_DB_FEED_POOL_SIZE',
    default: '4',
    description:
      'PostgreSQL connections, apart from EVENTUATE_DB_POOL_SIZE, for feed reads that do not wait and for readers catching up from behind the live tail; they take turns on these, so writers keep theirs.',
  },
  {
    name: 'EVENTUATE_FEED_MAX_STREAMS',
    default: String(DEFAULT_MAX_FEED_STREAMS),
    description: 'Most SSE streams (`GET /events/stream`) open at once; more get 429 `too_many_requests` with `Retry-After`.',
  },
  {
    name: 'EVENTUATE_FEED_MAX_LONG_POLLS',
    default: String(DEFAULT_MAX_LONG_POLLS),
    description: 'Most long polls (`GET /events` with `waitMs` above 0) under way at once; more get 429 `too_many_requests` with `Retry-After`.',
  },
  { name: 'KAFKA_BROKERS', description: 'Comma-separated Kafka brokers (host:port) for the event relay. Unset: no relay.' },
  { name: 'EVENTUATE_TOPIC_PREFIX', default: '', description: 'Prefix of the Kafka topic names (topic = prefix + entity type).' },
  {
    name: 'EVENTUATE_RELAY_MAX_MESSAGE_BYTES',
    default: '1000000',
    description:
      "Largest Kafka message the relay sends (bytes, or with a kb/mb suffix); keep it at or below the broker's message.max.bytes. With the relay on (or this set), an append with an event whose message would be larger gets 413; an older stored event over it halts the relay.",
  },
  {
    name: 'EVENTUATE_RELAY_SKIP_EVENTS',
    description: 'Comma-separated event ids the relay must not publish: the answer to a relay halted at an event it cannot send (each skip is logged).',
  },
  {
    name: 'EVENTUATE_RELAY_LOCK_TIMEOUT_MS',
    default: '15000',
    description:
      'How long a relay leader that stopped answering (frozen, cut off) keeps the leadership before a standby takes over; a leader whose lock session broke stops publishing within half of it.',
  },
  { name: 'EVENTUATE_RELAY_LEADER_POLL_MS', default: '1000', description: 'How often a standby relay tries to become the leader; below EVENTUATE_RELAY_LOCK_TIMEOUT_MS.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent. Each request is logged at debug, in one line.' },
  {
    name: 'LOG_FORMAT',
    description: 'text (one readable line per record) or json (one JSON object per line, for log collectors). Unset: text when standard output is a terminal, json otherwise.',
  },
];

export interface ServerConfig {
  port: number;
  host: string;
  /** Undefined: start the embedded PostgreSQL. */
  databaseUrl?: string;
  dataDir: string;
  schema: string;
  apiKeys: string[];
  bodyLimit: number;
  requestTimeoutMs: number;
  maxConnections: number;
  dbPoolSize: number;
  dbWriteConnections: number;
  dbTimeouts: DatabaseTimeouts;
  readyTimeoutMs: number;
  dbFeedPoolSize: number;
  feedMaxStreams: number;
  feedMaxLongPolls: number;
  kafkaBrokers: string[];
  topicPrefix: string;
  relayMaxMessageBytes: number;
  /** The largest serialized Kafka message of an appended event; set when the relay is on or its limit is set. */
  eventMessageLimit?: number;
  relaySkipEventIds: string[];
  relayLockTimeoutMs: number;
  relayLeaderPollMs: number;
  logLevel: string;
  /** Undefined: chosen by whether stdout is a terminal (see logging.ts). */
  logFormat?: LogFormat;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const HOUR_MS = 3_600_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads and checks every variable, reporting all problems at once rather than the first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const problems: string[] = [];
  const documented = new Map(CONFIG_VARIABLES.map((v) => [v.name, v]));
  const read = (name: string): string => {
    const variable = documented.get(name);
    if (!variable) throw new Error(`${name} is read but not listed in CONFIG_VARIABLES`);
    const value = env[name]?.trim();
    return value === undefined || value === '' ? (variable.default ?? '') : value;
  };
  const integer = (name: string, min: number, max: number): number => {
    const text = read(name);
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(text)}: expected an integer from ${min} to ${max}`);
      return min;
    }
    return value;
  };
  const list = (name: string) =>
    read(name)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const config: ServerConfig = {
    port: integer('PORT', 0, 65535),
    host: read('HOST'),
    databaseUrl: read('DATABASE_URL') || undefined,
    dataDir: read('EVENTUATE_DATA_DIR'),
    schema: read('EVENTUATE_SCHEMA'),
    apiKeys: list('EVENTUATE_API_KEYS'),
    bodyLimit: parseByteSize(read('EVENTUATE_BODY_LIMIT')) ?? DEFAULT_BODY_LIMIT,
    requestTimeoutMs: integer('EVENTUATE_REQUEST_TIMEOUT_MS', 1000, HOUR_MS),
    maxConnections: integer('EVENTUATE_MAX_CONNECTIONS', 16, 1_000_000),
    dbPoolSize: integer('EVENTUATE_DB_POOL_SIZE', 1, 1000),
    dbWriteConnections: integer('EVENTUATE_DB_WRITE_CONNECTIONS', 1, 1000),
    dbTimeouts: {
      connectTimeoutMs: integer('EVENTUATE_DB_CONNECT_TIMEOUT_MS', 0, HOUR_MS),
      statementTimeoutMs: integer('EVENTUATE_DB_STATEMENT_TIMEOUT_MS', 0, HOUR_MS),
      queryTimeoutMs: integer('EVENTUATE_DB_QUERY_TIMEOUT_MS', 0, HOUR_MS),
      keepAliveMs: integer('EVENTUATE_DB_KEEPALIVE_MS', 1000, HOUR_MS),
    },
    readyTimeoutMs: integer('EVENTUATE_READY_TIMEOUT_MS', 100, 60_000),
    dbFeedPoolSize: integer('EVENTUATE_DB_FEED_POOL_SIZE', 1, 1000),
    feedMaxStreams: integer('EVENTUATE_FEED_MAX_STREAMS', 1, 1_000_000),
    feedMaxLongPolls: integer('EVENTUATE_FEED_MAX_LONG_POLLS', 1, 1_000_000),
    kafkaBrokers: list('KAFKA_BROKERS'),
    topicPrefix: read('EVENTUATE_TOPIC_PREFIX'),
    relayMaxMessageBytes: parseByteSize(read('EVENTUATE_RELAY_MAX_MESSAGE_BYTES')) ?? 0,
    relaySkipEventIds: list('EVENTUATE_RELAY_SKIP_EVENTS'),
    relayLockTimeoutMs: integer('EVENTUATE_RELAY_LOCK_TIMEOUT_MS', 1000, 3_600_000),
    relayLeaderPollMs: integer('EVENTUATE_RELAY_LEADER_POLL_MS', 50, 600_000),
    logLevel: read('LOG_LEVEL').toLowerCase(),
    logFormat: (read('LOG_FORMAT').toLowerCase() || undefined) as LogFormat | undefined,
  };
  if (parseByteSize(read('EVENTUATE_BODY_LIMIT')) === undefined) {
    problems.push(`EVENTUATE_BODY_LIMIT=${JSON.stringify(read('EVENTUATE_BODY_LIMIT'))}: expected bytes, or a number with kb or mb (e.g. 5mb)`);
  }
  if (config.relayMaxMessageBytes === 0) {
    problems.push(`EVENTUATE_RELAY_MAX_MESSAGE_BYTES=${JSON.stringify(read('EVENTUATE_RELAY_MAX_MESSAGE_BYTES'))}: expected bytes (at least 1024), or a number with kb or mb`);
  }
  // The relay on, or a relay running apart whose limit this server must respect.
  if (config.kafkaBrokers.length > 0 || env.EVENTUATE_RELAY_MAX_MESSAGE_BYTES?.trim()) config.eventMessageLimit = config.relayMaxMessageBytes;
  for (const id of config.relaySkipEventIds) {
    if (!UUID.test(id)) problems.push(`EVENTUATE_RELAY_SKIP_EVENTS: ${JSON.stringify(id)} is not an event id (a UUID)`);
  }
  if (config.relayLeaderPollMs >= config.relayLockTimeoutMs) {
    problems.push('EVENTUATE_RELAY_LEADER_POLL_MS must be below EVENTUATE_RELAY_LOCK_TIMEOUT_MS (a standby polling slower than the lease would lose its own session)');
  }
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    problems.push('DATABASE_URL: expected a postgres:// or postgresql:// connection string');
  }
  if (!SCHEMA_NAME.test(config.schema)) problems.push(`EVENTUATE_SCHEMA=${JSON.stringify(config.schema)}: expected a lower-case identifier (a-z, 0-9, _)`);
  if (!LOG_LEVELS.includes(config.logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(config.logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`);
  if (config.logFormat !== undefined && !LOG_FORMATS.includes(config.logFormat)) {
    problems.push(`LOG_FORMAT=${JSON.stringify(config.logFormat)}: expected ${LOG_FORMATS.join(' or ')}, or unset`);
  }
  if (config.host === '') problems.push('HOST: must not be empty');
  for (const broker of config.kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) problems.push(`KAFKA_BROKERS: ${JSON.stringify(broker)} is not host:port`);
  }
  if (!/^[A-Za-z0-9._-]*$/.test(config.topicPrefix)) problems.push('EVENTUATE_TOPIC_PREFIX: only letters, digits, ".", "_" and "-" are valid in Kafka topic names');
  if (config.apiKeys.some((key) => /\s/.test(key))) problems.push('EVENTUATE_API_KEYS: keys must not contain spaces');
  const { statementTimeoutMs, queryTimeoutMs } = config.dbTimeouts;
  if (statementTimeoutMs > 0 && queryTimeoutMs > 0 && queryTimeoutMs <= statementTimeoutMs) {
    // Otherwise the client gives up first, and drops a connection PostgreSQL was about to free by cancelling the statement.
    problems.push(`EVENTUATE_DB_QUERY_TIMEOUT_MS=${queryTimeoutMs}: must be above EVENTUATE_DB_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), or 0`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** "5242880", "512kb", "5mb" (binary units) -> bytes; undefined when it is none of these. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? 'b').toLowerCase();
  const bytes = Number(match[1]) * (unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1);
  return bytes >= 1024 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The configuration table as Markdown, for the README. */
export function configTableMarkdown(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${v.default === undefined ? 'unset' : v.default === '' ? '(empty)' : `\`${v.default}\``} | ${v.description} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
