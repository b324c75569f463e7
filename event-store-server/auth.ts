import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../src/errors';

/** Probes must work without a key: orchestrators call them and they reveal nothing. */
const OPEN_PATHS = new Set(['/health', '/ready']);

function digest(value: string): Buffer {
  // Hashing first gives equal-length buffers, so the comparison time says nothing about the key's length.
  return createHash('sha256').update(value).digest();
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** When keys are configured, every route but the probes needs `Authorization: Bearer <key>`. */
export function registerApiKeyAuth(app: FastifyInstance, apiKeys: readonly string[]): void {
  if (apiKeys.length === 0) return;
  const keyDigests = apiKeys.map(digest);
  app.addHook('onRequest', async (request) => {
    if (OPEN_PATHS.has(request.url.split('?')[0])) return;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new UnauthorizedError();
    const presented = digest(token);
    // Compare against every key, without stopping early, so timing does not tell which key nearly matched.
    let valid = false;
    for (const key of keyDigests) valid = timingSafeEqual(key, presented) || valid;
    if (!valid) throw new UnauthorizedError('the API key is not valid');
  });
}
