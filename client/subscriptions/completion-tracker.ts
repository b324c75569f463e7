import type { Settlement } from './event-settler';

/**
 * Items of a batch finish out of order (different entities run concurrently); a position may only
 * be committed up to the last item before which everything finished. This tracks that prefix.
 */
export class CompletionTracker {
  private readonly done: boolean[];
  private completedPrefix = 0;

  constructor(size: number) {
    this.done = new Array<boolean>(size).fill(false);
  }

  /** Marks item `index` done; returns the last index of the finished prefix when it grew, else undefined. */
  complete(index: number): number | undefined {
    this.done[index] = true;
    const before = this.completedPrefix;
    while (this.completedPrefix < this.done.length && this.done[this.completedPrefix]) this.completedPrefix++;
    return this.completedPrefix > before ? this.completedPrefix - 1 : undefined;
  }

  get allDone(): boolean {
    return this.completedPrefix === this.done.length;
  }
}

/** How many settlements, from the first, are done with (neither halted nor interrupted): what may be committed. */
export function finishedPrefix(settlements: Settlement[]): number {
  const index = settlements.findIndex((s) => s.kind === 'halted' || s.kind === 'interrupted');
  return index === -1 ? settlements.length : index;
}
