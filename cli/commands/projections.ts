import { ProjectionRebuildError } from '../../client/projections/projection-errors';
import { loadProjections } from '../support/projections-module';
import { parseCommandArgs, reportingErrors, serverConnection, serverStore, SERVER_OPTIONS_HELP, UsageError } from '../support/client-args';
import { progressPrinter } from '../support/progress';
import { untilSignal } from '../support/signals';
import type { Command } from './command';

const USAGE = `usage: eventuate-local projections rebuild <name> --module <file> [--url URL] [--api-key KEY]

Rebuilds a projection blue-green: replays the feed into a fresh copy of its tables while the copy
in use keeps serving (and its running projection keeps applying new events), then switches
readers over in one transaction. Progress (events, events/s, time left) goes to the terminal.
Ctrl-C stops the rebuild; the tables in use stay as they were.

--module is your module that exports \`projections\`: an array of postgresProjection(...), or a
function returning one (a .ts module needs ts-node in your project). The feed is the projection's
\`feed\` option, else the server at --url.
${SERVER_OPTIONS_HELP}`;

const options = {
  module: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const command: Command = {
  description: 'rebuild a projection into fresh tables while the old ones serve, then switch over',
  run: (args) =>
    reportingErrors(USAGE, async () => {
      const { values, positionals } = parseCommandArgs(args, options);
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      const [action, name, ...extra] = positionals;
      if (action !== 'rebuild') throw new UsageError(action ? `unknown action ${JSON.stringify(action)}` : 'expected rebuild');
      if (!name) throw new UsageError('expected the name of the projection to rebuild');
      if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
      if (!values.module) throw new UsageError('--module is needed: the module that exports your projections');

      const projections = await loadProjections(values.module);
      const projection = projections.find((p) => p.name === name);
      try {
        if (!projection) throw new UsageError(`${values.module} exports no projection '${name}' (it exports ${projections.map((p) => `'${p.name}'`).join(', ') || 'none'})`);
        const stopping = new AbortController();
        void untilSignal().then(() => stopping.abort());
        const useServer = values.url !== undefined || !projection.hasFeed;
        const result = await projection.rebuild({
          onProgress: progressPrinter(),
          signal: stopping.signal,
          feed: useServer ? serverStore(serverConnection(values)) : undefined,
        });
        console.log(`rebuilt ${name}: ${result.events} events in ${result.seconds.toFixed(1)} s; readers now see the new tables (schema ${projection.schema})`);
        return 0;
      } catch (err) {
        if (!(err instanceof ProjectionRebuildError)) throw err;
        console.error(`eventuate-local: ${err.message}`);
        return 1;
      } finally {
        await Promise.all(projections.map((p) => p.close()));
      }
    }),
};
