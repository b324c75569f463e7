import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a feed subscriber keeps its position, so a restart resumes instead of starting over. */
export interface CursorStore {
  /** The saved cursor, or undefined: start from the beginning of the feed. */
  load(subscriberId: string): Promise<string | undefined>;
  save(subscriberId: string, cursor: string): Promise<void>;
  close?(): Promise<void>;
}

/** The directory for subscriber files when none is given: under EVENTUATE_DATA_DIR (default `.eventuate`). */
export function defaultSubscriptionsDir(): string {
  return join(process.env.EVENTUATE_DATA_DIR || '.eventuate', 'subscriptions');
}

/**
 * One small file per subscriber, `<dir>/<subscriberId>.cursor`, replaced atomically (write, then
 * rename), so a crash leaves the old cursor or the new one, never half of one.
 */
export function fileCursorStore(options: { dir?: string } = {}): CursorStore {
  const dir = options.dir ?? defaultSubscriptionsDir();
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

/** Kept in memory only: for tests, or subscribers that rebuild from the start on every run. */
export function memoryCursorStore(): CursorStore {
  const cursors = new Map<string, string>();
  return {
    load: async (subscriberId) => cursors.get(subscriberId),
    save: async (subscriberId, cursor) => void cursors.set(subscriberId, cursor),
  };
}
