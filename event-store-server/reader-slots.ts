import { TooManyRequestsError } from '../src/errors';

/** A cap on readers of one kind (SSE streams, waiting long polls): past it, 429 too_many_requests with Retry-After. */
export class ReaderSlots {
  private taken = 0;

  constructor(
    private readonly capacity: number,
    /** What a slot is, for the refusal, e.g. "open feed streams". */
    private readonly what: string,
    /** The variable that raises the cap, named in the refusal. */
    private readonly setting: string,
    private readonly retryAfterSeconds: number,
  ) {}

  get inUse(): number {
    return this.taken;
  }

  /** Takes a slot, or throws TooManyRequestsError when all are taken; call the returned function once to give it back. */
  take(): () => void {
    if (this.taken >= this.capacity) {
      throw new TooManyRequestsError(
        `the server already has ${this.capacity} ${this.what}, its limit (${this.setting}): try again after ${this.retryAfterSeconds} s`,
        this.retryAfterSeconds,
      );
    }
    this.taken++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.taken--;
    };
  }
}
