import { formatEventJson, formatEventLine } from '../support/event-format';
import { parseCommandArgs, reportingErrors, SERVER_OPTIONS_HELP, serverConnection, serverOptions, serverStore, UsageError } from '../support/client-args';
import type { Command } from './command';

const USAGE = `usage: eventuate-local history <entityType> <entityId> [--url URL] [--api-key KEY] [--json]

Prints an entity's full history, oldest first: version, time, event type and data.
--json prints each stored event as one JSON document per line.
${SERVER_OPTIONS_HELP}`;

const PAGE_SIZE = 1000;

export const command: Command = {
  description: "print an entity's history from a running server (--json for one JSON event per line)",
  run: (args) =>
    reportingErrors(USAGE, async () => {
      const { values, positionals } = parseCommandArgs(args, serverOptions);
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      if (positionals.length !== 2) throw new UsageError('expected an entity type and an entity id');
      const [entityType, entityId] = positionals;
      const store = serverStore(serverConnection(values));
      for (let fromVersion: number | null = 1; fromVersion !== null; ) {
        const page = await store.history(entityType, entityId, { fromVersion, limit: PAGE_SIZE });
        if (fromVersion === 1 && !values.json) console.log(`${entityType} ${entityId}: version ${page.entityVersion}`);
        for (const event of page.events) console.log(values.json ? formatEventJson(event) : `  ${formatEventLine(event, { showEntity: false })}`);
        fromVersion = page.nextFromVersion;
      }
      return 0;
    }),
};
