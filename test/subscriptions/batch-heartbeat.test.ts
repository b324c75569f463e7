import { checkHeartbeat, heartbeatWhile } from '../../client/subscriptions/batch-heartbeat';

describe('heartbeats while a batch is handled (what the mock broker cannot show: it never expires sessions)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('beats every interval for as long as the work runs, and stops when it ends', async () => {
    const beats: number[] = [];
    let finish!: () => void;
    const work = new Promise<string>((resolve) => (finish = () => resolve('done')));
    const running = heartbeatWhile(() => work, { intervalMs: 500, heartbeat: async () => void beats.push(Date.now()), onError: () => undefined });
    const started = Date.now();
    // A handler running 8 s, longer than a 6 s session: 16 beats, none more than 500 ms apart.
    await jest.advanceTimersByTimeAsync(8000);
    expect(beats).toHaveLength(16);
    expect(beats.map((t, i) => t - (i === 0 ? started : beats[i - 1]))).toEqual(new Array(16).fill(500));
    finish();
    await expect(running).resolves.toBe('done');
    await jest.advanceTimersByTimeAsync(5000);
    expect(beats).toHaveLength(16);
  });

  it('goes on beating after a failed beat, and reports it', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let finish!: () => void;
    const running = heartbeatWhile(() => new Promise<void>((resolve) => (finish = resolve)), {
      intervalMs: 100,
      heartbeat: async () => {
        calls++;
        if (calls === 1) throw new Error('coordinator moved');
      },
      onError: (err) => errors.push(err),
    });
    await jest.advanceTimersByTimeAsync(300);
    expect(calls).toBe(3);
    expect(errors).toEqual([new Error('coordinator moved')]);
    finish();
    await running;
  });

  it('stops beating when the work fails, and passes the failure on', async () => {
    let calls = 0;
    const running = heartbeatWhile(() => Promise.reject(new Error('batch failed')), { intervalMs: 100, heartbeat: async () => void calls++, onError: () => undefined });
    await expect(running).rejects.toThrow('batch failed');
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(0);
  });
});

describe('checkHeartbeat', () => {
  it('accepts an interval of at most a third of the session timeout', () => {
    expect(() => checkHeartbeat(3000, 30_000)).not.toThrow();
    expect(() => checkHeartbeat(2000, 6000)).not.toThrow();
  });

  it('refuses an interval that would let the group expire a member whose handlers are merely slow', () => {
    expect(() => checkHeartbeat(5000, 6000)).toThrow(/heartbeatIntervalMs \(5000\) must be positive and at most a third of sessionTimeoutMs \(6000\)/);
    expect(() => checkHeartbeat(0, 6000)).toThrow(RangeError);
  });
});
