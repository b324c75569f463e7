import type { Logger } from 'pino';
import { sleep } from '../../src/backoff';
import type { EventStore } from '../../src/event-store';
import type { StoredEvent } from '../../src/model';
import { noDeadlineSchedulerFix, sagaPendingDeadlines, type SagaPendingDeadline } from './saga-pending-deadlines';

/** A saga's deadline still unfired `overdueAfterMs` past its due time, confirmed against the store. */
export interface OverdueSagaDeadline extends Omit<SagaPendingDeadline, 'overdueMs'> {
  sagaType: string;
  sagaId: string;
  /** How long past `dueAt` it is now. */
  overdueMs: number;
  /** When the watch confirmed it in the store and logged it. */
  reportedAt: string;
}

interface Watched {
  sagaId: string;
  deadlineId: string;
  dueAtMs: number;
  overdue?: OverdueSagaDeadline;
}

const HISTORY_PAGE = 1000;
/** Confirmations per check, so that many stalled sagas do not turn the watch into a load on the store. */
const CONFIRMATIONS_PER_CHECK = 100;

/**
 * The orchestrator's watch over the deadlines its sagas schedule (a step's `withDeadline`, a
 * compensation's `compensationBackoff`). They fire only if a deadline scheduler reads the saga's
 * entity type; when none does, the saga would wait for ever and nobody be told. The orchestrator
 * feeds it the saga stream's DeadlineScheduled, DeadlineFired, DeadlineCancelled and endings as it
 * reads them; a deadline still unsettled `overdueAfterMs` past its due time is checked against the
 * store (a scheduler in another process may have fired it and the orchestrator not read that yet),
 * and only then logged as an error with the fix and listed in `overdue()`. The entry leaves the list
 * when the orchestrator reads it fired or cancelled, or the saga ended.
 *
 * It lives in memory. After a restart it is rebuilt from the events the orchestrator reads from its
 * cursor on: that covers every deadline scheduled after the cursor (all of them for a new subscriber
 * id, which reads from the beginning; and a deadline that fell due while the process was down, if its
 * DeadlineScheduled was not yet behind the cursor). It does not cover a deadline whose DeadlineScheduled
 * was read and committed before the restart: if it was overdue long enough before, it was reported
 * then; otherwise only the saga's timeline (`eventuate-local saga`) shows it overdue.
 */
export class SagaDeadlineWatch {
  private readonly watched = new Map<string, Watched>();
  private checking?: { stop: AbortController; done: Promise<void> };

  constructor(
    private readonly sagaType: string,
    private readonly store: EventStore,
    private readonly overdueAfterMs: number,
  ) {}

  scheduled(sagaId: string, deadlineId: string, dueAt: string): void {
    if (!this.watched.has(deadlineId)) this.watched.set(deadlineId, { sagaId, deadlineId, dueAtMs: Date.parse(dueAt) });
  }

  /** Fired or cancelled: settled, whoever did it. */
  settled(deadlineId: string, logger: Logger): void {
    const entry = this.watched.get(deadlineId);
    this.watched.delete(deadlineId);
    if (entry?.overdue) logger.info({ saga: this.sagaType, sagaId: entry.sagaId, deadlineId }, 'a saga deadline reported overdue has now been settled');
  }

  sagaEnded(sagaId: string): void {
    for (const [deadlineId, entry] of this.watched) if (entry.sagaId === sagaId) this.watched.delete(deadlineId);
  }

  overdue(): OverdueSagaDeadline[] {
    const now = Date.now();
    return [...this.watched.values()].flatMap((entry) => (entry.overdue ? [{ ...entry.overdue, overdueMs: Math.max(0, now - entry.dueAtMs) }] : []));
  }

  start(logger: Logger): void {
    const stop = new AbortController();
    // Checked a few times within overdueAfterMs, and at least every 5 s.
    const everyMs = Math.min(Math.max(this.overdueAfterMs / 4, 20), 5000);
    const loop = async () => {
      while (!stop.signal.aborted) {
        await sleep(everyMs, stop.signal);
        if (stop.signal.aborted) return;
        try {
          await this.check(logger);
        } catch (error) {
          logger.warn({ err: error, saga: this.sagaType }, 'checking saga deadlines for overdue ones failed; trying again');
        }
      }
    };
    this.checking = { stop, done: loop() };
  }

  async stop(): Promise<void> {
    const checking = this.checking;
    this.checking = undefined;
    checking?.stop.abort();
    await checking?.done;
  }

  /** Confirms in the store the deadlines past due by overdueAfterMs that are not yet reported, and reports those still pending. */
  async check(logger: Logger): Promise<void> {
    const now = Date.now();
    const candidates = [...this.watched.values()].filter((entry) => !entry.overdue && now - entry.dueAtMs >= this.overdueAfterMs).slice(0, CONFIRMATIONS_PER_CHECK);
    for (const entry of candidates) {
      const pending = sagaPendingDeadlines(await this.history(entry.sagaId)).find((deadline) => deadline.deadlineId === entry.deadlineId);
      // Settled in the store already (the orchestrator will read it), or the saga ended: nothing is stuck.
      if (pending === undefined) {
        this.watched.delete(entry.deadlineId);
        continue;
      }
      // A report names the entry it belongs to; one settled or ended meanwhile is not brought back.
      if (this.watched.get(entry.deadlineId) !== entry) continue;
      entry.overdue = { sagaType: this.sagaType, sagaId: entry.sagaId, ...pending, reportedAt: new Date().toISOString() };
      const what = pending.kind === 'step' ? `the deadline of step '${pending.step}'` : `the compensation retry of step '${pending.step}'`;
      logger.error(
        { saga: this.sagaType, sagaId: entry.sagaId, step: pending.step, deadlineId: pending.deadlineId, kind: pending.kind, dueAt: pending.dueAt, overdueMs: pending.overdueMs },
        `saga ${this.sagaType} ${entry.sagaId} is stalled: ${what} (deadline ${pending.deadlineId}, due ${pending.dueAt}) is overdue by ${Math.round(pending.overdueMs / 1000)} s and has not fired: ${noDeadlineSchedulerFix(this.sagaType)}`,
      );
    }
  }

  private async history(sagaId: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for (let fromVersion: number | null = 1; fromVersion !== null; ) {
      const page = await this.store.history(this.sagaType, sagaId, { fromVersion, limit: HISTORY_PAGE });
      events.push(...page.events);
      fromVersion = page.nextFromVersion;
    }
    return events;
  }
}
