import { encodeCursor } from '../../src/cursor';
import type { StoredEvent } from '../../src/model';
import { FeedWindow } from '../../event-store-server/feed-window';

const STORE = 'a1a1a1a1a1a1a1a1';
const cursorAt = (transactionId: number, position: number, storeId = STORE) => encodeCursor(storeId, { transactionId: BigInt(transactionId), position: BigInt(position) });

function eventAt(transactionId: number, position: number, entityType = 'A', padding = ''): StoredEvent {
  return {
    eventId: `e-${transactionId}-${position}`,
    entityType,
    entityId: 'x',
    entityVersion: position,
    eventType: 'Happened',
    eventData: { padding },
    metadata: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    cursor: cursorAt(transactionId, position),
  };
}

const page = (events: StoredEvent[]) => ({ events, cursor: events.at(-1)!.cursor! });
const ids = (events: StoredEvent[]) => events.map((e) => e.eventId);

describe('the feed window', () => {
  it('places cursors before, inside and past what it holds', () => {
    const window = new FeedWindow(cursorAt(10, 5), { events: 100, size: 1e9 });
    window.append(page([eventAt(11, 7), eventAt(11, 8), eventAt(13, 6)]));
    expect(window.place(cursorAt(10, 4))).toBe('behind');
    expect(window.place(cursorAt(10, 5))).toBe('within');
    expect(window.place(cursorAt(11, 8))).toBe('within');
    expect(window.place(cursorAt(13, 6))).toBe('within');
    expect(window.place(cursorAt(13, 7))).toBe('ahead');
    expect(window.place('not a cursor')).toBe('behind');
    // Another store's cursor is the store's to refuse, wherever its position lies.
    expect(window.place(cursorAt(11, 8, 'b2b2b2b2b2b2b2b2'))).toBe('behind');
    expect(window.place(Buffer.from('11.8').toString('base64url'))).toBe('behind');
    expect(window.tailCursor).toBe(cursorAt(13, 6));
  });

  it('answers as the store would: the events after the cursor, at most limit, and past other types to the tail', () => {
    const window = new FeedWindow(cursorAt(1, 0), { events: 100, size: 1e9 });
    window.append(page([eventAt(2, 1, 'A'), eventAt(2, 2, 'B'), eventAt(3, 3, 'A'), eventAt(4, 4, 'B')]));
    expect(window.pageAfter(cursorAt(1, 0), undefined, 2)).toEqual({ events: [eventAt(2, 1, 'A'), eventAt(2, 2, 'B')], cursor: cursorAt(2, 2) });
    expect(window.pageAfter(cursorAt(2, 1), new Set(['A']), 10)).toEqual({ events: [eventAt(3, 3, 'A')], cursor: cursorAt(4, 4) });
    expect(window.pageAfter(cursorAt(3, 3), new Set(['A']), 10)).toEqual({ events: [], cursor: cursorAt(4, 4) });
    expect(window.pageAfter(cursorAt(4, 4), undefined, 10)).toEqual({ events: [], cursor: cursorAt(4, 4) });
    expect(window.pageAfter(cursorAt(1, 0), new Set(['B']), 1)).toEqual({ events: [eventAt(2, 2, 'B')], cursor: cursorAt(2, 2) });
  });

  it('lets its oldest events go past its count or its size, and then places their cursors behind', () => {
    const byCount = new FeedWindow(cursorAt(1, 0), { events: 2, size: 1e9 });
    byCount.append(page([eventAt(2, 1), eventAt(2, 2), eventAt(2, 3)]));
    expect(byCount.place(cursorAt(2, 0))).toBe('behind');
    expect(byCount.place(cursorAt(2, 1))).toBe('within');
    expect(ids(byCount.pageAfter(cursorAt(2, 1), undefined, 10).events)).toEqual(['e-2-2', 'e-2-3']);

    const bySize = new FeedWindow(cursorAt(1, 0), { events: 100, size: 5000 });
    bySize.append(page([eventAt(2, 1, 'A', 'x'.repeat(3000)), eventAt(2, 2, 'A', 'x'.repeat(3000))]));
    expect(bySize.place(cursorAt(2, 1))).toBe('within');
    expect(bySize.place(cursorAt(1, 0))).toBe('behind');
    bySize.append(page([eventAt(3, 3, 'A', 'x'.repeat(6000))]));
    expect(bySize.place(cursorAt(3, 3))).toBe('within');
    expect(bySize.place(cursorAt(2, 2))).toBe('behind');
    expect(bySize.pageAfter(cursorAt(3, 3), undefined, 10)).toEqual({ events: [], cursor: cursorAt(3, 3) });
  });

  it('refuses a page that goes back in the feed, rather than answer readers wrongly', () => {
    const window = new FeedWindow(cursorAt(5, 5), { events: 100, size: 1e9 });
    expect(() => window.append(page([eventAt(5, 4)]))).toThrow(/at or before its own cursor/);
  });
});
