import { DeadLetterRequestError, SubscriberDeadLetters } from '../../client/subscriptions/subscriber-dead-letters';
import { postgresDeadLetters } from '../../client/subscriptions/postgres-dead-letters';
import type { DeadLetter } from '../../client/subscriptions/dead-letter-store';
import { parseCommandArgs, reportingErrors, UsageError } from '../support/client-args';
import type { Command } from './command';

const USAGE = `usage: eventuate-local dead-letters list <subscriberId> [--json]
       eventuate-local dead-letters retry <subscriberId> <id> | --all
       eventuate-local dead-letters discard <subscriberId> <id>
       [--database-url URL] [--schema eventuate]

Works with a subscriber's dead letters where postgresDeadLetters({ connectionString, schema })
keeps them. list prints failed and parked events, oldest first. retry asks the running subscriber
to run a failed event again (after you fixed its handler): it does so at its next look at the
store (deadLetterPollMs, 2 s by default), and the events parked behind it follow in order; list
shows the outcome. discard gives up on a failed event for good; the events parked behind it are
then handled in order. --database-url defaults to DATABASE_URL.`;

const options = {
  'database-url': { type: 'string' },
  schema: { type: 'string', default: 'eventuate' },
  all: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const command: Command = {
  description: "list, retry or discard a subscriber's dead letters (kept in PostgreSQL by postgresDeadLetters)",
  run: (args) =>
    reportingErrors(USAGE, async () => {
      const { values, positionals } = parseCommandArgs(args, options);
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      const [action, subscriberId, id, ...extra] = positionals;
      if (!['list', 'retry', 'discard'].includes(action)) throw new UsageError(action ? `unknown action ${JSON.stringify(action)}` : 'expected list, retry or discard');
      if (!subscriberId) throw new UsageError('expected a subscriber id');
      if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
      if (action === 'list' && (id !== undefined || values.all)) throw new UsageError('list takes only a subscriber id');
      if (action === 'retry' && (id === undefined) === !values.all) throw new UsageError('retry takes one dead letter id, or --all');
      if (action === 'discard' && (id === undefined || values.all)) throw new UsageError('discard takes one dead letter id');
      const connectionString = values['database-url'] ?? process.env.DATABASE_URL;
      if (!connectionString) throw new UsageError('set DATABASE_URL or --database-url: the PostgreSQL the subscriber keeps its dead letters in');

      const store = postgresDeadLetters({ connectionString, schema: values.schema });
      const letters = new SubscriberDeadLetters(store, subscriberId);
      try {
        if (action === 'list') return await list(letters, values.json);
        if (action === 'retry') {
          const asked = id === undefined ? await letters.retryAll() : await letters.retry(id);
          if (asked.length === 0) console.log(`${subscriberId} has no failed dead letters holding an event to retry`);
          else console.log(`asked ${subscriberId} to retry ${asked.join(', ')}; the running subscriber does at its next look at the store (list shows the outcome)`);
          return 0;
        }
        const discarded = await letters.discard(id!);
        console.log(`discarded ${describe(discarded)}${discarded.parksEntity ? '; the events parked behind it are handled next, in order, by the running subscriber' : ''}`);
        return 0;
      } catch (err) {
        if (!(err instanceof DeadLetterRequestError)) throw err;
        console.error(`eventuate-local: ${err.message}`);
        return 1;
      } finally {
        await store.close?.();
      }
    }),
};

async function list(letters: SubscriberDeadLetters, json: boolean): Promise<number> {
  const all = await letters.list();
  if (json) {
    for (const letter of all) console.log(JSON.stringify(letter));
    return 0;
  }
  const failed = all.filter((l) => l.state === 'failed').length;
  console.log(`${letters.subscriberId}: ${failed} failed, ${all.length - failed} parked`);
  for (const letter of all) {
    const when = letter.state === 'failed' ? `failed ${letter.failedAt}, attempts ${letter.attempts}` : `parked ${letter.recordedAt}`;
    const retry = letter.retryRequestedAt ? `, retry asked ${letter.retryRequestedAt}` : '';
    console.log(`  ${letter.state.padEnd(6)}  ${describe(letter)}  ${when}${retry}`);
    if (letter.error) console.log(`          ${letter.error}`);
  }
  return 0;
}

function describe(letter: DeadLetter): string {
  const what = letter.event ? `${letter.event.eventType} ${letter.entityKey} v${letter.entityVersion}` : `not an event, key ${letter.entityKey}`;
  return `${letter.id} (${what})`;
}
