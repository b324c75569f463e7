import { KeyedSerialQueue } from '../../client/subscriptions/keyed-serial-queue';

/** A task that finishes when the test says so, recording when it started and ended. */
function gate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const task = async () => {
    log.push(`start ${name}`);
    try {
      await done;
    } finally {
      log.push(`end ${name}`);
    }
  };
  return { task, open, fail };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedSerialQueue: one task at a time per entity, entities concurrently', () => {
  it('runs a key’s tasks in the order added, each after the previous ended, while another key runs alongside', async () => {
    const log: string[] = [];
    const queue = new KeyedSerialQueue(4);
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const runs = [queue.run('a', a1.task), queue.run('a', a2.task), queue.run('b', b1.task)];
    await tick();
    expect(log).toEqual(['start a1', 'start b1']);
    b1.open();
    await tick();
    expect(log).toEqual(['start a1', 'start b1', 'end b1']);
    a1.open();
    await tick();
    await tick();
    expect(log).toEqual(['start a1', 'start b1', 'end b1', 'end a1', 'start a2']);
    a2.open();
    await Promise.all(runs);
  });

  it('a failed task rejects its own run and does not stop its key’s later tasks', async () => {
    const log: string[] = [];
    const queue = new KeyedSerialQueue(2);
    const first = gate(log, 'a1');
    const second = gate(log, 'a2');
    const failed = queue.run('a', first.task);
    const next = queue.run('a', second.task);
    first.fail(new Error('handler failed'));
    await expect(failed).rejects.toThrow('handler failed');
    await tick();
    expect(log).toEqual(['start a1', 'end a1', 'start a2']);
    second.open();
    await next;
  });

  it('holds at most `concurrency` tasks at once; the waiting ones start as slots free up', async () => {
    const log: string[] = [];
    const queue = new KeyedSerialQueue(2);
    const gates = ['a', 'b', 'c'].map((key) => ({ key, ...gate(log, key) }));
    const runs = gates.map((g) => queue.run(g.key, g.task));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    gates[1].open();
    await tick();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates[0].open();
    gates[2].open();
    await Promise.all(runs);
  });

  it('returns what the task returns', async () => {
    await expect(new KeyedSerialQueue(Infinity).run('k', async () => 42)).resolves.toBe(42);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new KeyedSerialQueue(0)).toThrow(/concurrency must be a positive integer or Infinity, not 0/);
    expect(() => new KeyedSerialQueue(1.5)).toThrow(RangeError);
  });
});
