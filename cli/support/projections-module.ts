import { isAbsolute, resolve } from 'node:path';
import { PostgresProjection } from '../../client/projections/postgres-projection';
import { UsageError } from './client-args';

/**
 * The projections a user's module exports as `projections`: an array of postgresProjection(...),
 * or a function (maybe async) returning one. A .ts module loads through the project's own ts-node.
 */
export async function loadProjections(modulePath: string): Promise<PostgresProjection[]> {
  const path = isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath);
  if (/\.[cm]?ts$/.test(path)) registerTsNode(modulePath);
  let loaded: { projections?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(path) as { projections?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (err as Error).message.includes(path)) throw new UsageError(`--module ${modulePath}: no such module`);
    throw err;
  }
  const exported = typeof loaded.projections === 'function' ? await (loaded.projections as () => unknown)() : loaded.projections;
  if (!Array.isArray(exported) || !exported.every((p) => p instanceof PostgresProjection)) {
    throw new UsageError(`--module ${modulePath} must export \`projections\`: an array of postgresProjection(...), or a function returning one`);
  }
  return exported;
}

function registerTsNode(modulePath: string): void {
  let register: string;
  try {
    register = require.resolve('ts-node/register/transpile-only', { paths: [process.cwd()] });
  } catch {
    throw new UsageError(`--module ${modulePath} is TypeScript: install ts-node in your project, or point --module at the compiled .js`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(register);
}
