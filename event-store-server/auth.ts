import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../src/errors';

/** Probes must work without a key: orchestrators call them and they reveal nothing. */
const OPEN_PATHS = new Set(['/health', '/ready']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers without a key because it reveals no data (the console's page and files). */
    openWithoutKey?: boolean;
  }
}

function digest(value: string): Buffer {
  // Hashing first gives equal-length buffers, so the comparison time says nothing about the key's length.
  return createHash('sha256').update(value).digest();
}

/**
 * The key of `Authorization: Bearer <key>`: the scheme in any case, one space, then the key, which
 * never contains whitespace (the configuration refuses such keys). Anything else, such as two spaces
 * or a tab before the key, is refused rather than trimmed: whitespace around a key is a client's
 * configuration mistake (a key read from a file with its newline), better named than hidden.
 * Whitespace at the very end of the header is not the client's: HTTP strips it from every header value
 * before the server sees it.
 */
export function bearerToken(header: string | undefined): { key: string } | { malformed: true } | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^Bearer (\S+)$/i.exec(header);
  return match ? { key: match[1] } : { malformed: true };
}

/** When keys are configured, every route but the probes needs `Authorization: Bearer <key>`. */
export function registerApiKeyAuth(app: FastifyInstance, apiKeys: readonly string[]): void {
  if (apiKeys.length === 0) return;
  const keyDigests = apiKeys.map(digest);
  app.addHook('onRequest', async (request) => {
    if (OPEN_PATHS.has(request.url.split('?')[0]) || request.routeOptions.config.openWithoutKey) return;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new UnauthorizedError();
    if ('malformed' in token) {
      throw new UnauthorizedError('the Authorization header must be `Bearer <key>`: the word Bearer, one space, and the key without whitespace');
    }
    const presented = digest(token.key);
    // Compare against every key, without stopping early, so timing does not tell which key nearly matched.
    let valid = false;
    for (const key of keyDigests) valid = timingSafeEqual(key, presented) || valid;
    if (!valid) throw new UnauthorizedError('the API key is not valid');
  });
}
