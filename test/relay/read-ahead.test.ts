import type { FeedPage } from '../../src/model';
import type { EventWithData } from '../../src/stored-event-text';
import { ReadAhead } from '../../event-store-server/relay/read-ahead';

const event = (n: number): EventWithData => ({
  eventId: `e-${n}`,
  entityType: 'T',
  entityId: `t-${n % 3}`,
  entityVersion: n,
  eventType: 'E',
  eventData: {},
  metadata: {},
  createdAt: '2000-01-01T00:00:00.000Z',
  cursor: `c-${n}`,
});

/**
 * A feed of events 1..n appended by the test (`commit`), read in pages of at most `limit` after a
 * cursor `c-<n>`; a read finding nothing waits for the next commit, as the store's long poll does.
 */
function scriptedFeed(limit: number) {
  let committed = 0;
  let onCommit: (() => void) | undefined;
  const reads: string[] = [];
  return {
    reads,
    commit(count: number) {
      committed += count;
      onCommit?.();
    },
    async read(after: string): Promise<FeedPage<EventWithData>> {
      reads.push(after);
      const from = after === '' ? 0 : Number(after.slice(2));
      while (committed <= from) await new Promise<void>((resolve) => (onCommit = resolve));
      const events = Array.from({ length: Math.min(limit, committed - from) }, (_, i) => event(from + i + 1));
      return { events, cursor: events.at(-1)!.cursor! };
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const numbers = (events: readonly EventWithData[]) => events.map((e) => e.entityVersion);

describe('ReadAhead', () => {
  it('reads on while nothing is taken, up to the limit, and hands the pages out in order, merged up to the limit', async () => {
    const feed = scriptedFeed(4);
    const stop = new AbortController();
    const ahead = new ReadAhead((after) => feed.read(after), '', 4, stop.signal);
    for (const count of [1, 2]) {
      feed.commit(count);
      await settle();
    }
    expect(ahead.pagesWaiting).toBe(2);
    expect(await ahead.take()).toEqual({ events: [event(1), event(2), event(3)], cursor: 'c-3', caughtUp: true });

    // At the limit the reader waits: 9 events committed, a page of 4 read, then nothing until it is taken.
    feed.commit(9);
    await settle();
    expect(feed.reads).toEqual(['', 'c-1', 'c-3']);
    const full = await ahead.take();
    expect([numbers(full!.events), full!.caughtUp]).toEqual([[4, 5, 6, 7], false]);
    await settle();
    expect(numbers((await ahead.take())!.events)).toEqual([8, 9, 10, 11]);
    expect(numbers((await ahead.take())!.events)).toEqual([12]);
    stop.abort();
    expect(await ahead.take()).toBeUndefined();
  });

  it('takes no more pages than asked; is ready once a page is read, and not once stopped', async () => {
    const feed = scriptedFeed(10);
    const stop = new AbortController();
    const ahead = new ReadAhead((after) => feed.read(after), '', 10, stop.signal);
    feed.commit(1);
    await settle();
    feed.commit(1);
    await settle();
    expect(numbers((await ahead.take(1))!.events)).toEqual([1]);
    expect(numbers((await ahead.take(1))!.events)).toEqual([2]);
    const ready = ahead.ready();
    feed.commit(2);
    expect(await ready).toBe(true);
    expect(ahead.pagesWaiting).toBe(1);
    const waiting = ahead.take();
    expect(numbers((await waiting)!.events)).toEqual([3, 4]);
    const never = ahead.ready();
    stop.abort();
    expect(await never).toBe(false);
  });

  it('throws a failed read once the pages read before it were taken', async () => {
    let reads = 0;
    const stop = new AbortController();
    const ahead = new ReadAhead(
      async () => {
        if (++reads === 2) throw new Error('database gone');
        return { events: [event(1)], cursor: 'c-1' };
      },
      '',
      10,
      stop.signal,
    );
    await settle();
    expect(numbers((await ahead.take())!.events)).toEqual([1]);
    await expect(ahead.take()).rejects.toThrow('database gone');
    stop.abort();
  });
});
