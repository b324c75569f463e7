/**
 * Tests run the TypeScript sources through ts-jest, transpiling only (types are checked by
 * `npm run lint`), with decorators and their metadata as tsconfig.json sets them.
 * The toolchain is pure JavaScript on purpose: packages with per-platform native binaries
 * (swc, esbuild) cannot be locked for every platform from the registry mirror these machines use.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
