import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problemOf, PROBLEM_CONTENT_TYPE } from '../problem';

/** The page and its script and style, plain files shipped as they are (`npm run build` copies them into dist/). */
export const CONSOLE_ASSETS_DIR = join(__dirname, 'assets');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Event data is written by anyone who can append, and the page shows it: the script renders it as
 * text only, and this policy is the second wall. Nothing inline runs, nothing loads from another
 * origin, no other site may frame the page.
 */
export const CONSOLE_SECURITY_HEADERS = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

/**
 * Every file under assets/, read once: the route serves these names and no others, so no request
 * path ever reaches the file system.
 */
function readAssets(): Map<string, { body: Buffer; contentType: string }> {
  if (!existsSync(join(CONSOLE_ASSETS_DIR, 'console.html'))) {
    throw new Error(`the console's files are missing from ${CONSOLE_ASSETS_DIR}: build with npm run build, which copies them there`);
  }
  const assets = new Map<string, { body: Buffer; contentType: string }>();
  for (const name of readdirSync(CONSOLE_ASSETS_DIR, { recursive: true, encoding: 'utf8' })) {
    const path = name.split('\\').join('/');
    const contentType = CONTENT_TYPES[extname(path)];
    if (contentType) assets.set(path, { body: readFileSync(join(CONSOLE_ASSETS_DIR, path)), contentType });
  }
  return assets;
}

function sendFile(reply: FastifyReply, body: Buffer, contentType: string): FastifyReply {
  return reply.headers(CONSOLE_SECURITY_HEADERS).type(contentType).send(body);
}

/**
 * GET /console and its files. They hold no data and are served without a key; the script sends the
 * key the user gives it (kept in sessionStorage) with each API request, in the Authorization header.
 */
export function registerConsoleRoutes(app: FastifyInstance): void {
  const page = readFileSync(join(CONSOLE_ASSETS_DIR, 'console.html'));
  const assets = readAssets();
  const open = { hide: true };
  const config = { openWithoutKey: true };

  app.get('/console', { schema: open, config }, async (_request, reply) => sendFile(reply, page, 'text/html; charset=utf-8'));

  app.get<{ Params: { '*': string } }>('/console/assets/*', { schema: open, config }, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    if (!asset) {
      const problem = problemOf('not_found', `the console has no file ${request.params['*']}`);
      return reply.code(404).headers(CONSOLE_SECURITY_HEADERS).type(PROBLEM_CONTENT_TYPE).send(problem);
    }
    return sendFile(reply, asset.body, asset.contentType);
  });
}
