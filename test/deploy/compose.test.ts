import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../event-store-server';

// Docker does not run on the CI machines, so the files are checked for what a `docker compose up` relies on.
const ROOT = resolve(__dirname, '../..');
const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'));
const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const services = compose.services as Record<string, any>;
const serverVariables = new Set(CONFIG_VARIABLES.map((v) => v.name));

/** Compose accepts environment as a map or a list of NAME=value. */
function environmentOf(service: any): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
  return Object.fromEntries(env.map((line: string) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
}

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Kafka and the event store built from the Dockerfile', () => {
    expect(Object.keys(services).sort()).toEqual(['eventuate', 'kafka', 'postgres']);
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.kafka.image).toMatch(/^apache\/kafka:\d/);
    expect(services.eventuate.build).toBe('.');
    expect(services.eventuate.ports).toContain('8080:8080');
  });

  it('gives every service a healthcheck, and starts the server only once both dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, test: service.healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
    }
    expect(services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(services.kafka.healthcheck.test.join(' ')).toContain('kafka-broker-api-versions');
    expect(services.eventuate.healthcheck.test.join(' ')).toContain('/health');
    expect(services.eventuate.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      kafka: { condition: 'service_healthy' },
    });
  });

  it('runs Kafka in KRaft mode on one node, without ZooKeeper', () => {
    const env = environmentOf(services.kafka);
    expect(env.KAFKA_PROCESS_ROLES.split(',').sort()).toEqual(['broker', 'controller']);
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:9093`);
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
    expect(Object.keys(env).some((k) => k.includes('ZOOKEEPER'))).toBe(false);
    expect(Object.keys(services).some((k) => k.includes('zookeeper'))).toBe(false);
  });

  it('points the server at the compose PostgreSQL and Kafka, with the relay on', () => {
    const env = environmentOf(services.eventuate);
    const pg = environmentOf(services.postgres);
    const url = new URL(env.DATABASE_URL);
    expect([url.protocol, url.hostname, url.port, url.username, url.password, url.pathname]).toEqual([
      'postgres:',
      'postgres',
      '5432',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    // The broker the server is given must be one Kafka advertises to other containers.
    const advertised = environmentOf(services.kafka).KAFKA_ADVERTISED_LISTENERS.split(',').map((l) => l.replace(/^\w+:\/\//, ''));
    expect(env.KAFKA_BROKERS.split(',').every((broker) => advertised.includes(broker))).toBe(true);
    expect(env.HOST).toBe('0.0.0.0');
  });

  it('sets only variables the server knows', () => {
    const unknown = Object.keys(environmentOf(services.eventuate)).filter((name) => !serverVariables.has(name));
    expect(unknown).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages = instructions.filter((line) => /^FROM\s/i.test(line));
  const runtime = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1]));

  it('builds in one stage and runs from a small base in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[stages.length - 1]).toMatch(/^FROM node:\d+-(slim|alpine)/);
    expect(runtime.some((line) => /COPY --from=build .*dist/.test(line))).toBe(true);
    expect(runtime.some((line) => /npm (ci|install)(?!.*--omit=dev)/.test(line))).toBe(false);
  });

  it('runs as a non-root user, exposes 8080, checks /health and starts the server', () => {
    const user = runtime.find((line) => /^USER\s/.test(line));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)\b/);
    expect(runtime).toContain('EXPOSE 8080');
    expect(runtime.find((line) => line.startsWith('HEALTHCHECK'))).toContain('/health');
    const cmd = runtime.find((line) => line.startsWith('CMD ['));
    expect(JSON.parse(cmd!.slice(4))).toEqual(['node', 'dist/cli/cli.js', 'start']);
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const sources = instructions
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(resolve(ROOT, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.includes(source) }).toEqual({ source, ignored: false });
    }
  });
});
