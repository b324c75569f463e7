import { spawn } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * A user's project in a temporary directory, with eventuate-local-ts installed from the tarball that
 * `npm pack` makes of this repository. The package is built from the current sources into a staging
 * copy, so the repository's own dist/ is neither needed nor touched.
 */

export const ROOT = resolve(__dirname, '../..');
const CONSUMER_SOURCES = resolve(__dirname, 'consumer');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result to assert on, not an exception. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/**
 * npm as a user runs it: without the npm_* variables of the `npm test` that may have started jest (they
 * would point npm at this repository's configuration), and with Node's own directory on PATH for `#!` lines.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
  return { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? ''}` };
}

/** Runs npm in `cwd`; its failure is an error carrying npm's output. */
async function npm(args: string[], cwd: string): Promise<CommandResult> {
  const result = await run('npm', args, { cwd, env: userEnv() });
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} in ${cwd} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

export interface PackedPackage {
  tarball: string;
  /** The paths inside the tarball. */
  files: string[];
}

/** `npm pack` of this repository, built as `npm run build` builds it, into `workDir`. */
export async function packPackage(workDir: string): Promise<PackedPackage> {
  const stage = join(workDir, 'stage');
  // What npm publishes besides dist/ (package.json, README.md, and whatever `files` or npm's own rules add).
  const [listed] = JSON.parse((await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)).stdout) as PackResult[];
  for (const { path } of listed.files.filter((file) => !file.path.startsWith('dist/'))) {
    await cp(join(ROOT, path), join(stage, path));
  }
  await npm(['run', 'build', '--', '--outDir', join(stage, 'dist')], ROOT);
  const [packed] = JSON.parse((await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], stage)).stdout) as PackResult[];
  return { tarball: join(workDir, packed.filename), files: packed.files.map((file) => file.path) };
}

function installedVersion(name: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(ROOT, 'node_modules', name, 'package.json')) as { version: string }).version;
}

/**
 * A fresh project holding test/package/consumer/src, the given tsconfig.json, and eventuate-local-ts from the
 * tarball, with the TypeScript and @types/node this repository uses (so npm finds them in its cache).
 */
export async function createConsumer(workDir: string, tarball: string, tsconfig: object): Promise<string> {
  const dir = join(workDir, 'consumer');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await cp(join(CONSUMER_SOURCES, 'src'), join(dir, 'src'), { recursive: true });
  const tools = [`typescript@${installedVersion('typescript')}`, `@types/node@${installedVersion('@types/node')}`];
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...tools], dir);
  return dir;
}

/** The consumer's own tsc on one of its tsconfig files. */
export function consumerTsc(dir: string, project: string): Promise<CommandResult> {
  return run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: dir });
}
