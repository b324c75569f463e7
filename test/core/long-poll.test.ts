import { longPoll, type CommitWaiter } from '../../src/long-poll';
import type { FeedPage } from '../../src/model';

/** Commits announced by the test, to whoever listens at that moment. */
function announcer(): CommitWaiter & { announce(): void; listening(): number } {
  const listeners = new Set<() => void>();
  return {
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce: () => [...listeners].forEach((listener) => listener()),
    listening: () => listeners.size,
  };
}

/** Lets every promise chain that needs no timer run to its end. */
const drain = async () => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

describe('longPoll', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reads again at once after a commit announced while a read was under way, without waiting for a timer', async () => {
    const commits = announcer();
    const reads: string[] = [];
    const read = async (after: string): Promise<FeedPage<string>> => {
      reads.push(after);
      // The first read's snapshot was taken before this commit: it finds nothing, though the commit was announced.
      if (reads.length === 1) {
        commits.announce();
        return { events: [], cursor: after };
      }
      return { events: ['e-1'], cursor: 'c-1' };
    };
    let answer: FeedPage<string> | undefined;
    void longPoll('c-0', read, commits, { waitMs: 60_000, fallbackPollMs: 60_000 }).then((page) => (answer = page));
    await drain();
    expect(answer).toEqual({ events: ['e-1'], cursor: 'c-1' });
    expect(reads).toEqual(['c-0', 'c-0']);
    expect(commits.listening()).toBe(0);
  });

  it('sleeps until a commit when none was announced during the read, and stops listening when it answers', async () => {
    const commits = announcer();
    let committed = false;
    const read = async (): Promise<FeedPage<string>> => (committed ? { events: ['e-1'], cursor: 'c-1' } : { events: [], cursor: 'c-0' });
    let answer: FeedPage<string> | undefined;
    void longPoll('c-0', read, commits, { waitMs: 60_000, fallbackPollMs: 60_000 }).then((page) => (answer = page));
    await drain();
    expect(answer).toBeUndefined();
    expect(commits.listening()).toBe(1);
    committed = true;
    commits.announce();
    await drain();
    expect(answer).toEqual({ events: ['e-1'], cursor: 'c-1' });
    expect(commits.listening()).toBe(0);
  });

  it('does not listen for commits when it does not wait', async () => {
    const commits = announcer();
    const page = await longPoll('c-0', async () => ({ events: [], cursor: 'c-0' }), commits, { waitMs: 0 });
    expect(page).toEqual({ events: [], cursor: 'c-0' });
    expect(commits.listening()).toBe(0);
  });
});
