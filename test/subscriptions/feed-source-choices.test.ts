import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventHandlerMethod, EventSubscriber, feedSource, fileCursorStore, InMemoryEventStore, memoryCursorStore, memoryDeadLetters, SubscriptionManager, type FeedSourceOptions, type SubscriptionManagerOptions } from '../../client';
import { spawnTs } from '../server/child-process';
import { Deposited } from './wallet-domain';

@EventSubscriber('choicesWatcher')
class ChoicesWatcher {
  @EventHandlerMethod(Deposited)
  deposited() {}
}

const ROOT = resolve(__dirname, '../..');

describe('feedSource: where cursors and dead letters go is the caller’s choice', () => {
  it('refuses to start a subscriber without a cursor store, saying what to choose and why', async () => {
    const manager = new SubscriptionManager({ source: feedSource({ store: new InMemoryEventStore() }), deadLetters: memoryDeadLetters(), subscribers: [new ChoicesWatcher()] });
    await expect(manager.start()).rejects.toThrow(TypeError);
    await expect(manager.start()).rejects.toThrow(
      /feedSource needs a cursorStore for subscriber 'choicesWatcher': .*restart resumes.*memoryCursorStore\(\) for a view kept in memory.*fileCursorStore\(\{ dir \}\) or postgresCursorStore.*A projection keeps its own/,
    );
    expect(manager.status()[0]).toMatchObject({ running: false });
  });

  it('dead letters are the manager’s, for both sources: it refuses to start without them, naming both choices; feedSource refuses them', () => {
    const source = feedSource({ store: new InMemoryEventStore(), cursorStore: memoryCursorStore() });
    expect(() => new SubscriptionManager({ source } as unknown as SubscriptionManagerOptions)).toThrow(
      /SubscriptionManager needs deadLetters: .*postgresDeadLetters\(\{ connectionString \}\).*memoryDeadLetters\(\)/,
    );
    const oldStyle = { store: new InMemoryEventStore(), cursorStore: memoryCursorStore(), deadLetters: memoryDeadLetters() } as unknown as FeedSourceOptions;
    expect(() => feedSource(oldStyle)).toThrow(/feedSource no longer takes deadLetters: give them to the SubscriptionManager/);
  });

  it('file cursor stores have no default directory', () => {
    expect(() => fileCursorStore({} as { dir: string })).toThrow(/fileCursorStore\(\{ dir \}\) needs the directory/);
  });

  it('a subscriber on memoryCursorStore and memoryDeadLetters leaves no file in its working directory', async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'eventuate-cwd-')));
    try {
      // From another directory, node and ts-node find this repository's modules and tsconfig only when told.
      const env = { ...process.env, NODE_PATH: resolve(ROOT, 'node_modules'), TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json') };
      const child = spawnTs(resolve(__dirname, 'memory-subscriber-child.ts'), [], { cwd, env });
      expect({ exitCode: await child.exited(), output: child.output() }).toEqual({ exitCode: 0, output: expect.any(String) });
      const report = JSON.parse(child.output().trim().split('\n').at(-1)!);
      expect(report).toEqual({ cwd, amounts: [5], deadLetters: 1, cursor: expect.any(String) });
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
