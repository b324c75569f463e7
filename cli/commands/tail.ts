import { formatEventJson, formatEventLine } from '../support/event-format';
import { parseCommandArgs, reportingErrors, SERVER_OPTIONS_HELP, serverConnection, serverOptions, serverStore, UsageError } from '../support/client-args';
import type { Command } from './command';

const USAGE = `usage: eventuate-local tail [entityType[,entityType...]] [--url URL] [--api-key KEY] [--json]
                           [--from-start | --after CURSOR] [--count N]

Follows the global event feed of a running server and prints each event as it commits.
By default it starts at the end of the feed; --from-start replays everything first.
--count N exits after N events. --json prints one JSON document per event (with its cursor).
${SERVER_OPTIONS_HELP}`;

const PAGE_SIZE = 1000;
const LONG_POLL_MS = 25_000;

const options = {
  ...serverOptions,
  'from-start': { type: 'boolean', default: false },
  after: { type: 'string' },
  count: { type: 'string' },
} as const;

export const command: Command = {
  description: 'follow the live event feed of a running server, optionally of some entity types only',
  run: (args) =>
    reportingErrors(USAGE, async () => {
      const { values, positionals } = parseCommandArgs(args, options);
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      const entityTypes = positionals.flatMap((p) => p.split(',')).filter((t) => t !== '');
      const count = values.count === undefined ? Infinity : Number(values.count);
      if (!(Number.isInteger(count) && count > 0) && count !== Infinity) throw new UsageError('--count must be a positive integer');
      if (values['from-start'] && values.after !== undefined) throw new UsageError('--from-start and --after exclude each other');

      const server = serverConnection(values);
      const store = serverStore(server);
      const stopping = new AbortController();
      const stop = () => stopping.abort();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      try {
        let cursor = values.after ?? (values['from-start'] ? undefined : (await store.readFeedEnd()).cursor);
        let printed = 0;
        if (!values.json) console.error(`following ${entityTypes.length ? entityTypes.join(', ') : 'all entity types'} on ${server.url} (Ctrl-C stops)`);
        while (!stopping.signal.aborted && printed < count) {
          const page = await store.readFeed({ after: cursor, limit: Math.min(PAGE_SIZE, count - printed), entityTypes, waitMs: LONG_POLL_MS, signal: stopping.signal });
          for (const event of page.events) console.log(values.json ? formatEventJson(event) : formatEventLine(event, { showEntity: true }));
          printed += page.events.length;
          cursor = page.cursor;
        }
        return 0;
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      }
    }),
};

