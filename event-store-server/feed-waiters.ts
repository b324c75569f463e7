import { compareFeedPositions, FeedPosition } from '../src/cursor';
import type { FeedPage } from '../src/model';
import type { AnswerEvent } from './event-json';
import type { TailEvent } from './feed-window';

/** A reader waiting at the tail for events of its types. */
export interface Waiter {
  /** Undefined: every type. */
  types?: ReadonlySet<string>;
  limit: number;
  /** Set while the reader's cursor lies past the tail: only events after it are the reader's. */
  ahead?: FeedPosition;
  /** Called once, with the reader's page, unless `end` is. */
  deliver(page: FeedPage<AnswerEvent>): void;
  /** Called when the tail stops with the reader still waiting: `err` when it failed. */
  end(err?: Error): void;
}

/**
 * The readers waiting at the tail, indexed by entity type, so a page of the tail costs work only
 * for the readers its events concern: a reader of a type nobody writes is never looked at.
 */
export class FeedWaiters {
  private readonly everyType = new Set<Waiter>();
  private readonly byType = new Map<string, Set<Waiter>>();
  private readonly ahead = new Set<Waiter>();
  private readonly all = new Set<Waiter>();

  get size(): number {
    return this.all.size;
  }

  add(waiter: Waiter): void {
    this.all.add(waiter);
    if (waiter.ahead) this.ahead.add(waiter);
    else this.index(waiter);
  }

  remove(waiter: Waiter): void {
    this.all.delete(waiter);
    this.ahead.delete(waiter);
    this.everyType.delete(waiter);
    for (const type of waiter.types ?? []) {
      const waiters = this.byType.get(type);
      waiters?.delete(waiter);
      if (waiters?.size === 0) this.byType.delete(type);
    }
  }

  /** Every waiter, removed: for when the tail stops and they must be answered otherwise. */
  takeAll(): Waiter[] {
    const all = [...this.all];
    this.all.clear();
    this.everyType.clear();
    this.byType.clear();
    this.ahead.clear();
    return all;
  }

  /**
   * Hands the events the tail just read (ending at `tail`, whose cursor is `tailCursor`) to every
   * waiter they concern, each answered like a store read: its first `limit` matching events, and
   * the tail's cursor when that was all of them, which passes the other types' events too.
   */
  deliver(added: readonly TailEvent[], tail: FeedPosition, tailCursor: string): void {
    if (added.length === 0) return;
    const concerned = new Set(this.everyType);
    for (const type of new Set(added.map(({ event }) => event.entityType))) {
      for (const waiter of this.byType.get(type) ?? []) concerned.add(waiter);
    }
    const events = added.map(({ event }) => event);
    for (const waiter of concerned) this.answer(waiter, events, tailCursor);
    // Readers ahead of the tail take only what lies past their cursor; once the tail reaches them they wait like the rest.
    for (const waiter of [...this.ahead]) {
      const theirs = added.filter(({ position }) => compareFeedPositions(position, waiter.ahead!) > 0).map(({ event }) => event);
      if (this.answer(waiter, theirs, tailCursor)) continue;
      if (compareFeedPositions(tail, waiter.ahead!) >= 0) {
        this.ahead.delete(waiter);
        waiter.ahead = undefined;
        this.index(waiter);
      }
    }
  }

  /** True when `events` held some of the waiter's types, which it then got. */
  private answer(waiter: Waiter, events: AnswerEvent[], tailCursor: string): boolean {
    const matching = waiter.types ? events.filter((event) => waiter.types!.has(event.entityType)) : events;
    if (matching.length === 0) return false;
    this.remove(waiter);
    const page = matching.slice(0, waiter.limit);
    waiter.deliver({ events: page, cursor: matching.length > waiter.limit ? page[page.length - 1].cursor! : tailCursor });
    return true;
  }

  private index(waiter: Waiter): void {
    if (!waiter.types) {
      this.everyType.add(waiter);
      return;
    }
    for (const type of waiter.types) {
      let waiters = this.byType.get(type);
      if (!waiters) this.byType.set(type, (waiters = new Set()));
      waiters.add(waiter);
    }
  }
}
