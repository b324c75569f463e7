import { CompletionTracker } from '../../client/subscriptions/completion-tracker';

describe('CompletionTracker: the position commits only the finished prefix', () => {
  it('grows the prefix only when the first unfinished item finishes, then past everything finished behind it', () => {
    const tracker = new CompletionTracker(5);
    // Items 2 and 4 (other entities) finish first: nothing before them is done, nothing may be committed.
    expect(tracker.complete(2)).toBeUndefined();
    expect(tracker.complete(4)).toBeUndefined();
    expect(tracker.complete(0)).toBe(0);
    // Item 1 closes the gap: the prefix jumps past the already finished item 2, not yet to 4.
    expect(tracker.complete(1)).toBe(2);
    expect(tracker.allDone).toBe(false);
    expect(tracker.complete(3)).toBe(4);
    expect(tracker.allDone).toBe(true);
  });

  it('never passes an item that failed (was never completed), however many finish after it', () => {
    const tracker = new CompletionTracker(4);
    const committed: number[] = [];
    for (const index of [0, 2, 3]) {
      const last = tracker.complete(index);
      if (last !== undefined) committed.push(last);
    }
    // Item 1 failed and halted the subscriber: the last position that may be committed is item 0's.
    expect(committed).toEqual([0]);
    expect(tracker.allDone).toBe(false);
  });

  it('reports nothing new when an item is completed twice', () => {
    const tracker = new CompletionTracker(2);
    expect(tracker.complete(0)).toBe(0);
    expect(tracker.complete(0)).toBeUndefined();
  });
});
