import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HttpEventStore } from '../../client/http-event-store';
import { EventStoreError } from '../../src/errors';
import { DEFAULT_SERVER_URL } from './client-variables';

/** The options every command that talks to a running server shares. No defaults here: an unset flag falls back to its variable. */
export const serverOptions = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** For the commands' usage texts. */
export const SERVER_OPTIONS_HELP = `--url defaults to $EVENTUATE_URL, else ${DEFAULT_SERVER_URL}; --api-key to $EVENTUATE_API_KEY.
Prefer the variable for the key: a flag is visible to every user of the machine in \`ps\`.`;

export class UsageError extends Error {}

type CommandArgsConfig<O extends ParseArgsConfig['options']> = { args: string[]; options: O; allowPositionals: true; strict: true };

/** parseArgs with its errors turned into UsageError, so commands print usage instead of a stack. */
export function parseCommandArgs<O extends ParseArgsConfig['options']>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<CommandArgsConfig<O>>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export interface ServerConnection {
  url: string;
  apiKey?: string;
}

/** The server a command talks to: the flag, else the variable, else the default. An empty variable counts as unset. */
export function serverConnection(values: { url?: string; 'api-key'?: string }, env: NodeJS.ProcessEnv = process.env): ServerConnection {
  const fromEnv = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const url = values.url ?? fromEnv('EVENTUATE_URL') ?? DEFAULT_SERVER_URL;
  const source = values.url !== undefined ? '--url' : fromEnv('EVENTUATE_URL') !== undefined ? 'EVENTUATE_URL' : undefined;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`${source ?? '--url'} must be an http(s) URL, not ${JSON.stringify(url)}`);
  return { url, apiKey: values['api-key'] ?? fromEnv('EVENTUATE_API_KEY') };
}

export function serverStore(server: ServerConnection): HttpEventStore {
  // One retry: a person at a terminal wants an answer quickly, not a minute of backoff.
  return new HttpEventStore({ url: server.url, apiKey: server.apiKey, retries: 1 });
}

/** Runs a command body, printing usage errors and store errors as one line and an exit code. */
export async function reportingErrors(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`eventuate-local: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof EventStoreError) {
      const hint = err.code === 'unauthorized' ? ': set EVENTUATE_API_KEY (or --api-key) to one of the server\'s EVENTUATE_API_KEYS' : '';
      console.error(`eventuate-local: ${err.message} (${err.code})${hint}`);
      return 1;
    }
    throw err;
  }
}
