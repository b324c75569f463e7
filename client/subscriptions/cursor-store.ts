import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where a feed subscriber keeps its position, so a restart resumes instead of starting over. Keep it
 * as durable as what the subscriber builds: a durable cursor next to an in-memory view makes the
 * view's next run resume mid-feed and show half the data.
 */
export interface CursorStore {
  /** The saved cursor, or undefined: a new subscriber, which starts where its readFrom says. */
  load(subscriberId: string): Promise<string | undefined>;
  save(subscriberId: string, cursor: string): Promise<void>;
  close?(): Promise<void>;
}

/**
 * One small file per subscriber, `<dir>/<subscriberId>.cursor`, replaced atomically (write, then
 * rename), so a crash leaves the old cursor or the new one, never half of one.
 */
export function fileCursorStore(options: { dir: string }): CursorStore {
  const dir = requiredDir(options, 'fileCursorStore');
  const path = (subscriberId: string) => join(dir, `${subscriberId}.cursor`);
  return {
    async load(subscriberId) {
      try {
        const text = (await readFile(path(subscriberId), 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async save(subscriberId, cursor) {
      await mkdir(dir, { recursive: true });
      const temporary = `${path(subscriberId)}.${process.pid}.tmp`;
      await writeFile(temporary, `${cursor}\n`, { flush: true });
      await rename(temporary, path(subscriberId));
    },
  };
}

/** The directory a file-backed store was given; no default, so no file appears where nobody asked for one. */
export function requiredDir(options: { dir: string } | undefined, factory: string): string {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new TypeError(`${factory}({ dir }) needs the directory to keep its files in, e.g. ${factory}({ dir: '/var/lib/my-service/subscriptions' })`);
  }
  return options.dir;
}

/** Kept in memory only: for tests, and for views kept in memory, which rebuild from their readFrom on every run. */
export function memoryCursorStore(): CursorStore {
  const cursors = new Map<string, string>();
  return {
    load: async (subscriberId) => cursors.get(subscriberId),
    save: async (subscriberId, cursor) => void cursors.set(subscriberId, cursor),
  };
}
