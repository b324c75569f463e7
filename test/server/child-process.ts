import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first stdout/stderr line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | null>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Runs a TypeScript file of this repository in its own Node process. */
export function spawnTs(file: string, args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('exit', () => listeners.forEach((l) => l()));

  return {
    process: child,
    output: () => output,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.split('\n').map((line) => pattern.exec(line)).find(Boolean);
          if (match) {
            done();
            resolve(match);
          } else if (child.exitCode !== null) {
            done();
            reject(new Error(`process exited (${child.exitCode}) before printing ${pattern}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    exited: () => exited,
    async stop(signal = 'SIGTERM', timeoutMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** An embedded PostgreSQL in its own process (see postgres-process.ts). */
export async function startPostgresProcess(dataDir: string, port?: number): Promise<{ child: Child; connectionString: string; port: number }> {
  const child = spawnTs(`${__dirname}/postgres-process.ts`, port ? [dataDir, String(port)] : [dataDir]);
  const [line] = await child.waitForLine(/^\{"connectionString".*\}$/, 120_000);
  return { child, ...JSON.parse(line) };
}
