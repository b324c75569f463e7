import type { JsonObject, StoredEvent } from '../../src/model';

/** A deadline a saga instance waits on: scheduled in its stream, neither fired nor cancelled, the saga not ended. */
export interface SagaPendingDeadline {
  deadlineId: string;
  /** The step it belongs to (a step's deadline, or the step whose compensation is retried). */
  step?: string;
  /** 'step': a step's `withDeadline`; 'compensationRetry': the wait before a compensation is sent again (`compensationBackoff`). */
  kind: 'step' | 'compensationRetry';
  dueAt: string;
  /** How long past `dueAt` it is at the time asked (0 while not yet due). */
  overdueMs: number;
}

const ENDINGS = new Set(['SagaCompleted', 'SagaRolledBack', 'SagaFailed']);

/**
 * The deadlines a saga instance still waits on, from its stream (its history, oldest first) as the
 * store has it: what the timeline shows as pending and what the orchestrator's deadline watch checks
 * before it reports one overdue (a scheduler in another process may have fired it since).
 */
export function sagaPendingDeadlines(events: readonly StoredEvent[], now: number = Date.now()): SagaPendingDeadline[] {
  const pending = new Map<string, Omit<SagaPendingDeadline, 'overdueMs'>>();
  for (const event of events) {
    const data = event.eventData;
    const deadlineId = String(data.deadlineId);
    if (ENDINGS.has(event.eventType)) return [];
    if (event.eventType === 'DeadlineScheduled') {
      const payload = (data.payload ?? {}) as JsonObject;
      const kind = payload.kind === 'compensationRetry' ? 'compensationRetry' : 'step';
      pending.set(deadlineId, { deadlineId, step: typeof payload.step === 'string' ? payload.step : undefined, kind, dueAt: String(data.dueAt) });
    } else if (event.eventType === 'DeadlineFired' || event.eventType === 'DeadlineCancelled') {
      pending.delete(deadlineId);
    }
  }
  return [...pending.values()].map((deadline) => ({ ...deadline, overdueMs: Math.max(0, now - Date.parse(deadline.dueAt)) }));
}

/** What to do when a saga's deadline stays unfired past its due time: the same words in the orchestrator's log, the CLI and the README. */
export function noDeadlineSchedulerFix(sagaType: string): string {
  return (
    `no deadlineScheduler fires deadlines of entity type '${sagaType}' (none runs, or none reads that type, or the one that does cannot fire: see its logs): ` +
    `start one with entityTypes including '${sagaType}' (deadlineScheduler({ store, connectionString, entityTypes: [${sagaType}] }) in a SubscriptionManager); ` +
    `see README, Sagas, "When no scheduler fires a saga's deadlines"`
  );
}
