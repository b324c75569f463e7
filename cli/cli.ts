#!/usr/bin/env node
/**
 * `eventuate-local <command>`: each command is a module in ./commands exporting `command`
 * (see commands/command.ts), so adding one is adding a file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, type ConfigVariable } from '../event-store-server/config';
import { StartupError } from '../event-store-server/startup-error';
import { CLIENT_VARIABLES } from './support/client-variables';
import type { Command } from './commands/command';

const COMMANDS_DIR = join(__dirname, 'commands');
const DEFAULT_COMMAND = 'start';

function commandNames(): string[] {
  const names = readdirSync(COMMANDS_DIR)
    .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts') && !file.startsWith('command.'))
    .map((file) => file.replace(/\.(ts|js)$/, ''));
  return [...new Set(names)].sort();
}

function loadCommand(name: string): Command | undefined {
  if (!commandNames().includes(name)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(COMMANDS_DIR, name)) as { command: Command }).command;
}

function usage(): string {
  const commands = commandNames().map((name) => `  ${name.padEnd(10)} ${loadCommand(name)?.description ?? ''}`);
  const describe = (v: ConfigVariable) => `  ${v.name.padEnd(24)} ${v.default === undefined ? '' : `(default ${JSON.stringify(v.default)}) `}${v.description}`;
  return [
    'usage: eventuate-local [command] [args]',
    '',
    'commands:',
    ...commands,
    '',
    'environment of start, relay and migrate:',
    ...CONFIG_VARIABLES.map(describe),
    '',
    'environment of history, tail and saga:',
    ...CLIENT_VARIABLES.map(describe),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name = DEFAULT_COMMAND, ...args] = argv;
  if (['help', '--help', '-h'].includes(name)) {
    console.log(usage());
    return 0;
  }
  const command = loadCommand(name);
  if (!command) {
    console.error(`eventuate-local: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Errors the operator fixes by configuration are told as they are; anything else with its stack.
    console.error(err instanceof ConfigError || err instanceof StartupError ? `eventuate-local: ${err.message}` : err);
    process.exit(1);
  },
);
