import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HttpEventStore } from '../../client/http-event-store';
import { EventStoreError } from '../../src/errors';

export const DEFAULT_SERVER_URL = 'http://localhost:8080';

/** The options every command that talks to a running server shares. */
export const serverOptions = {
  url: { type: 'string', default: DEFAULT_SERVER_URL },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

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

export function serverStore(values: { url?: string; 'api-key'?: string }): HttpEventStore {
  const url = values.url ?? DEFAULT_SERVER_URL;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL, not ${JSON.stringify(url)}`);
  // One retry: a person at a terminal wants an answer quickly, not a minute of backoff.
  return new HttpEventStore({ url, apiKey: values['api-key'], retries: 1 });
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
      console.error(`eventuate-local: ${err.message} (${err.code})`);
      return 1;
    }
    throw err;
  }
}
