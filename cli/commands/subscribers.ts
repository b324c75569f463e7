import { Pool } from 'pg';
import { feedLag, type FeedLag } from '../../client/subscriptions/feed-lag';
import { readStoredCheckpoints, type StoredCheckpoint } from '../../client/projections/subscriber-checkpoints';
import { parseCommandArgs, reportingErrors, serverConnection, serverStore, SERVER_OPTIONS_HELP, UsageError } from '../support/client-args';
import type { Command } from './command';

const USAGE = `usage: eventuate-local subscribers [--database-url URL] [--schema eventuate] [--url URL] [--api-key KEY] [--json]

Where every projection and feed subscriber stands, from the database that keeps their positions:
projections (found by their bookkeeping tables, with a rebuild in progress), feed subscribers whose
cursors postgresCursorStore keeps in --schema, and the dead letters postgresDeadLetters keeps there
(Kafka subscribers show with their dead letters; their offsets are the consumer group's).
With the server reachable (--url, $EVENTUATE_URL) it adds each one's lag: the events waiting after
its checkpoint (up to 1000) and the oldest one's age. A subscriber's cursor table does not keep its
entity types, so its lag counts events of every type: an upper bound.
--database-url defaults to DATABASE_URL.
${SERVER_OPTIONS_HELP}`;

const options = {
  'database-url': { type: 'string' },
  schema: { type: 'string', default: 'eventuate' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface Row extends StoredCheckpoint {
  lag?: FeedLag & { allTypes: boolean };
  lagUnknown?: string;
}

export const command: Command = {
  description: 'where each projection and subscriber stands: checkpoint, lag, rebuilds, dead letters',
  run: (args) =>
    reportingErrors(USAGE, async () => {
      const { values, positionals } = parseCommandArgs(args, options);
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
      const connectionString = values['database-url'] ?? process.env.DATABASE_URL;
      if (!connectionString) throw new UsageError('set DATABASE_URL or --database-url: the PostgreSQL that keeps the projections and cursors');
      const pool = new Pool({ connectionString, max: 1 });
      let rows: Row[];
      try {
        rows = await readStoredCheckpoints(pool, values.schema);
      } finally {
        await pool.end();
      }
      const wantsLag = values.url !== undefined || process.env.EVENTUATE_URL?.trim();
      if (wantsLag) {
        const store = serverStore(serverConnection(values));
        for (const row of rows) {
          if (row.kind === 'subscriber' && row.cursor === undefined) continue;
          try {
            const types = row.kind === 'projection' && row.entityTypes?.length ? row.entityTypes : undefined;
            row.lag = { ...(await feedLag(store, row.cursor, types)), allTypes: types === undefined };
          } catch (err) {
            row.lagUnknown = (err as Error).message;
          }
        }
      }
      if (values.json) {
        for (const row of rows) console.log(JSON.stringify(row));
        return 0;
      }
      if (rows.length === 0) {
        console.log(`no projections in this database, and no subscriber cursors or dead letters in schema ${values.schema}`);
        return 0;
      }
      print(rows, Boolean(wantsLag));
      return 0;
    }),
};

function print(rows: Row[], withLag: boolean): void {
  const table = rows.map((row) => [
    row.name,
    row.kind === 'projection' ? `projection v${row.version} (${row.schema})` : 'subscriber',
    state(row),
    row.updatedAt ?? '-',
    withLag ? lag(row) : '',
    row.deadLetters ? `${row.deadLetters.failed} failed, ${row.deadLetters.parked} parked (${row.deadLetters.parkedEntities} entities)` : '-',
  ]);
  const header = ['NAME', 'KIND', 'STATE', 'LAST MOVED', withLag ? 'LAG' : '', 'DEAD LETTERS'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  for (const line of [header, ...table]) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  for (const row of rows) if (row.haltedError) console.log(`\n${row.name} stopped: ${row.haltedError}`);
}

function state(row: Row): string {
  if (row.haltedError) return 'halted';
  if (row.rebuild) return `rebuilding (at ${row.rebuild.lastEventAt ?? 'the start'})`;
  if (row.kind === 'subscriber' && row.cursor === undefined) return 'Kafka or no cursor';
  return 'ok';
}

function lag(row: Row): string {
  if (row.lagUnknown) return `unknown: ${row.lagUnknown}`;
  if (!row.lag) return '-';
  const bound = row.lag.allTypes ? '≤' : '';
  return `${bound}${row.lag.events}${row.lag.atLeast ? '+' : ''} events, ${row.lag.seconds.toFixed(1)} s`;
}
