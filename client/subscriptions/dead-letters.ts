import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredEvent } from '../../src/model';
import { requiredDir } from './cursor-store';

export interface DeadLetter {
  subscriberId: string;
  event: StoredEvent;
  error: string;
  attempts: number;
  failedAt: string;
}

/** Where a feed subscriber puts events its handler gave up on (Kafka subscribers use a topic). */
export interface DeadLetterSink {
  write(letter: DeadLetter): Promise<void>;
}

/** Appends one JSON line per event to `<dir>/<subscriberId>.dead-letters.jsonl`. */
export function fileDeadLetters(options: { dir: string }): DeadLetterSink {
  const dir = requiredDir(options, 'fileDeadLetters');
  return {
    async write(letter) {
      await mkdir(dir, { recursive: true });
      await appendFile(join(dir, `${letter.subscriberId}.dead-letters.jsonl`), `${JSON.stringify(letter)}\n`);
    },
  };
}

/** Keeps dead letters in an array (each is also logged as an error): for tests and throwaway views. */
export function memoryDeadLetters(): DeadLetterSink & { letters: DeadLetter[] } {
  const letters: DeadLetter[] = [];
  return { letters, write: async (letter) => void letters.push(letter) };
}
