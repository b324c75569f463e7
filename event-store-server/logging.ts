/**
 * The process's logger: pino, writing JSON lines (for log collectors) or one readable line per record
 * (for a person at a terminal). Which one is LOG_FORMAT's choice; unset, it follows whether stdout is a terminal.
 */
import pino, { type Logger } from 'pino';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: string;
  /** Undefined: text when `output` is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Default: process.stdout. */
  output?: NodeJS.WriteStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const output = options.output ?? process.stdout;
  const format = options.format ?? (output.isTTY ? 'text' : 'json');
  if (format === 'json') return pino({ level: options.level }, output);
  return pino({ level: options.level }, { write: (line: string) => output.write(textLine(line)) });
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Said once per process, not per line. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

/** One pino JSON record as `12:34:56.789Z warn  message key=value ...`, an error's stack indented below it. */
export function textLine(json: string): string {
  const record = JSON.parse(json) as Record<string, unknown>;
  const time = new Date(record.time as number).toISOString().slice(11);
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const head = [time, level, record.msg ?? '', ...fields].join(' ').trimEnd();
  const err = record.err as { stack?: string; message?: string } | undefined;
  const stack = err ? `\n${(err.stack ?? err.message ?? JSON.stringify(err)).replace(/^/gm, '    ')}` : '';
  return `${head}${stack}\n`;
}
