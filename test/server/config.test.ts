import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, configTableMarkdown, loadConfig, parseByteSize } from '../../event-store-server/config';

const SERVER_DIR = join(__dirname, '../../event-store-server');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('server configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '.eventuate',
      schema: 'eventuate',
      apiKeys: [],
      bodyLimit: 5 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      maxConnections: 10_000,
      dbPoolSize: 20,
      dbWriteConnections: 2,
      dbTimeouts: { connectTimeoutMs: 2000, statementTimeoutMs: 5000, queryTimeoutMs: 6000, keepAliveMs: 10_000 },
      readyTimeoutMs: 800,
      dbFeedPoolSize: 4,
      feedMaxStreams: 1000,
      feedMaxLongPolls: 1000,
      kafkaBrokers: [],
      topicPrefix: '',
      relayMaxMessageBytes: 1_000_000,
      relaySkipEventIds: [],
      relayLockTimeoutMs: 15_000,
      relayLeaderPollMs: 1000,
      logLevel: 'info',
    });
  });

  it('limits appended events to the relay\'s message size when the relay is on, or when that limit is set for a relay running apart', () => {
    expect(loadConfig({}).eventMessageLimit).toBeUndefined();
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092' }).eventMessageLimit).toBe(1_000_000);
    expect(loadConfig({ EVENTUATE_RELAY_MAX_MESSAGE_BYTES: '2mb' }).eventMessageLimit).toBe(2 * 1024 * 1024);
  });

  it('keeps the default relay timings within the takeover promise: a frozen leader is replaced within 30 s', () => {
    const { relayLockTimeoutMs, relayLeaderPollMs } = loadConfig({});
    expect(relayLockTimeoutMs + relayLeaderPollMs).toBeLessThan(30_000);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/events',
      EVENTUATE_DATA_DIR: '/var/lib/eventuate',
      EVENTUATE_SCHEMA: 'es',
      EVENTUATE_API_KEYS: ' k1, k2 ,',
      EVENTUATE_BODY_LIMIT: '512kb',
      EVENTUATE_DB_POOL_SIZE: '50',
      EVENTUATE_DB_WRITE_CONNECTIONS: '2',
      EVENTUATE_REQUEST_TIMEOUT_MS: '10000',
      EVENTUATE_MAX_CONNECTIONS: '500',
      EVENTUATE_DB_CONNECT_TIMEOUT_MS: '1000',
      EVENTUATE_DB_STATEMENT_TIMEOUT_MS: '0',
      EVENTUATE_DB_QUERY_TIMEOUT_MS: '15000',
      EVENTUATE_DB_KEEPALIVE_MS: '5000',
      EVENTUATE_READY_TIMEOUT_MS: '500',
      EVENTUATE_DB_FEED_POOL_SIZE: '8',
      EVENTUATE_FEED_MAX_STREAMS: '5000',
      EVENTUATE_FEED_MAX_LONG_POLLS: '3000',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      EVENTUATE_TOPIC_PREFIX: 'prod.',
      EVENTUATE_RELAY_MAX_MESSAGE_BYTES: '900kb',
      EVENTUATE_RELAY_SKIP_EVENTS: '6554bf5b-6889-4e1a-b474-90a19eb29627',
      EVENTUATE_RELAY_LOCK_TIMEOUT_MS: '5000',
      EVENTUATE_RELAY_LEADER_POLL_MS: '250',
      LOG_LEVEL: 'DEBUG',
      LOG_FORMAT: 'JSON',
    });
    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      databaseUrl: 'postgres://u:p@db:5432/events',
      dataDir: '/var/lib/eventuate',
      schema: 'es',
      apiKeys: ['k1', 'k2'],
      bodyLimit: 512 * 1024,
      requestTimeoutMs: 10_000,
      maxConnections: 500,
      dbPoolSize: 50,
      dbWriteConnections: 2,
      dbTimeouts: { connectTimeoutMs: 1000, statementTimeoutMs: 0, queryTimeoutMs: 15_000, keepAliveMs: 5000 },
      readyTimeoutMs: 500,
      dbFeedPoolSize: 8,
      feedMaxStreams: 5000,
      feedMaxLongPolls: 3000,
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      topicPrefix: 'prod.',
      relayMaxMessageBytes: 900 * 1024,
      eventMessageLimit: 900 * 1024,
      relaySkipEventIds: ['6554bf5b-6889-4e1a-b474-90a19eb29627'],
      relayLockTimeoutMs: 5000,
      relayLeaderPollMs: 250,
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('reports every invalid value at once, by name', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: '80a', EVENTUATE_DB_POOL_SIZE: '0', EVENTUATE_FEED_MAX_STREAMS: 'many', EVENTUATE_FEED_MAX_LONG_POLLS: '0', LOG_LEVEL: 'loud', LOG_FORMAT: 'pretty', EVENTUATE_SCHEMA: 'x"; drop', DATABASE_URL: 'mysql://x', EVENTUATE_BODY_LIMIT: 'big', KAFKA_BROKERS: 'nohost' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of ['PORT', 'EVENTUATE_DB_POOL_SIZE', 'EVENTUATE_FEED_MAX_STREAMS', 'EVENTUATE_FEED_MAX_LONG_POLLS', 'LOG_LEVEL', 'LOG_FORMAT', 'EVENTUATE_SCHEMA', 'DATABASE_URL', 'EVENTUATE_BODY_LIMIT', 'KAFKA_BROKERS']) {
      expect(error!.message).toContain(name);
    }
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT="70000": expected an integer from 0 to 65535/);
    expect(() => loadConfig({ EVENTUATE_DB_QUERY_TIMEOUT_MS: '5000' })).toThrow(/EVENTUATE_DB_QUERY_TIMEOUT_MS=5000: must be above EVENTUATE_DB_STATEMENT_TIMEOUT_MS \(5000\)/);
    expect(() => loadConfig({ EVENTUATE_READY_TIMEOUT_MS: 'soon' })).toThrow(/EVENTUATE_READY_TIMEOUT_MS="soon"/);
  });

  it('refuses relay settings that cannot work, naming them', () => {
    expect(() => loadConfig({ EVENTUATE_RELAY_MAX_MESSAGE_BYTES: '1 gigabyte' })).toThrow(/EVENTUATE_RELAY_MAX_MESSAGE_BYTES="1 gigabyte"/);
    expect(() => loadConfig({ EVENTUATE_RELAY_SKIP_EVENTS: 'acc-1' })).toThrow(/EVENTUATE_RELAY_SKIP_EVENTS: "acc-1" is not an event id/);
    expect(() => loadConfig({ EVENTUATE_RELAY_LOCK_TIMEOUT_MS: '500' })).toThrow(/EVENTUATE_RELAY_LOCK_TIMEOUT_MS="500"/);
    expect(() => loadConfig({ EVENTUATE_RELAY_LOCK_TIMEOUT_MS: '2000', EVENTUATE_RELAY_LEADER_POLL_MS: '2000' })).toThrow(
      /EVENTUATE_RELAY_LEADER_POLL_MS must be below EVENTUATE_RELAY_LOCK_TIMEOUT_MS/,
    );
  });

  it('parses byte sizes', () => {
    expect(parseByteSize('5mb')).toBe(5 * 1024 * 1024);
    expect(parseByteSize('64KiB')).toBe(64 * 1024);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('12')).toBeUndefined(); // too small to carry a request
    expect(parseByteSize('1.5mb')).toBeUndefined();
  });

  it('documents every environment variable the server code reads', () => {
    const documented = new Set(CONFIG_VARIABLES.map((v) => v.name));
    const read = new Set<string>();
    for (const file of sourceFiles(SERVER_DIR)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\benv(?:\.|\[['"])([A-Z][A-Z0-9_]+)/g)) read.add(m[1]);
      for (const m of text.matchAll(/\b(?:read|integer|list)\('([A-Z][A-Z0-9_]+)'/g)) read.add(m[1]);
    }
    expect(read.size).toBeGreaterThanOrEqual(CONFIG_VARIABLES.length);
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
    for (const variable of CONFIG_VARIABLES) expect(variable.description.length).toBeGreaterThan(10);
    for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'EVENTUATE_DATA_DIR', 'EVENTUATE_API_KEYS', 'KAFKA_BROKERS', 'EVENTUATE_TOPIC_PREFIX', 'LOG_LEVEL']) {
      expect(documented).toContain(name);
    }
  });

  it('renders the configuration table for the README', () => {
    const table = configTableMarkdown();
    for (const variable of CONFIG_VARIABLES) expect(table).toContain(`\`${variable.name}\``);
  });
});
