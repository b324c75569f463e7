import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../..');

export interface RelayProcess {
  child: ChildProcess;
  /** SIGKILL: no graceful stop, no final cursor write. */
  kill(): Promise<void>;
  /** SIGTERM: the relay finishes its batch and exits. */
  terminate(): Promise<void>;
}

/** `eventuate-local relay` as its own process, run from the TypeScript sources. */
export function spawnRelay(env: Record<string, string>): RelayProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cli/cli.ts', 'relay'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.RELAY_LOG_LEVEL ?? "warn", KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { child, kill: () => signal('SIGKILL'), terminate: () => signal('SIGTERM') };
}
