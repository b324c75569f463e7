/** Tracks running work so shutdown can wait for it (an append must finish before the store closes). */
export class InFlight {
  private running = 0;
  private idle: Array<() => void> = [];
  /** One function for every piece of work, rather than a closure and a tracking promise each: this runs on every write. */
  private readonly settled = () => {
    if (--this.running > 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  };

  run<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.running++;
    promise.then(this.settled, this.settled);
    return promise;
  }

  /** Resolves once no work runs, including work started while it waits. */
  drain(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
