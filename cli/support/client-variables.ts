import type { ConfigVariable } from '../../event-store-server/config';

export const DEFAULT_SERVER_URL = 'http://localhost:8080';

/**
 * The variables of the commands that talk to a running server, as the examples read them; a flag wins
 * over its variable. Apart from client-args.ts so that `eventuate-local help` lists them without loading the client.
 */
export const CLIENT_VARIABLES: readonly ConfigVariable[] = [
  { name: 'EVENTUATE_URL', default: DEFAULT_SERVER_URL, description: 'Server that history, tail and saga read from (--url wins).' },
  { name: 'EVENTUATE_API_KEY', description: "API key history, tail and saga send, one of the server's EVENTUATE_API_KEYS (--api-key wins)." },
];
