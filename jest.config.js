/**
 * Tests run the TypeScript sources through ts-jest, transpiling only (types are checked by
 * `npm run lint`), with decorators and their metadata as tsconfig.json sets them.
 * The toolchain is pure JavaScript on purpose: packages with per-platform native binaries
 * (swc, esbuild) cannot be locked for every platform from the registry mirror these machines use.
 */
const { pathsToModuleNameMapper } = require('ts-jest');
const ts = require('typescript');

const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
// `eventuate-local-ts/client` and the other package names the examples import resolve to the sources, as in tsconfig.json.
const { paths } = ts.readConfigFile(require.resolve('./tsconfig.json'), ts.sys.readFile).config.compilerOptions;

module.exports = {
  // Node's environment, each test file with a PostgreSQL database of its own (see the file).
  testEnvironment: '<rootDir>/test/support/database-environment.ts',
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: pathsToModuleNameMapper(paths, { prefix: '<rootDir>/' }),
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
