import type { JsonObject, StoredEvent } from '../../src/model';
import { sagaPendingDeadlines } from './saga-pending-deadlines';

/** One entry of a saga's timeline: an event of its stream, told as what happened to which step. */
export interface SagaTimelineEntry {
  entityVersion: number;
  eventType: string;
  createdAt: string;
  /** Milliseconds since the saga started (its first event). */
  sinceStartMs: number;
  /** The step it concerns; undefined for the saga's start and end. */
  step?: string;
  /** What happened, in a few words: 'action sent', 'succeeded', 'compensation sent (attempt 2)', 'rolled back'... */
  what: string;
  /** The participant entity a command went to, or whose reply this records. */
  participant?: { entityType: string; entityId: string };
  /** The command sent, or the reply's event type, or the reason of a failure. */
  detail: string;
  /** For a reply: milliseconds since its command was sent. */
  tookMs?: number;
  /** For a reply: the participant's event, readable with the history or the console. */
  replyEventId?: string;
  /**
   * For a deadline the saga still waits on (neither fired nor cancelled, the saga not ended): when it
   * is due and how long past that it is at the time asked. Overdue by more than a scheduler's poll
   * means no deadline scheduler fires this saga's type.
   */
  pendingDeadline?: { deadlineId: string; dueAt: string; overdueMs: number };
}

/** The saga event types this timeline knows; any other event of the stream is shown as it is, never dropped. */
const TERMINAL: Record<string, string> = { SagaCompleted: 'completed', SagaRolledBack: 'rolled back', SagaFailed: 'failed' };

/**
 * A saga instance's stream (its history, oldest first) as a timeline of steps, replies and
 * compensations with their timings: what `eventuate-local saga` prints and the examples show. An
 * event type it does not know (a newer framework's) becomes an entry naming it, so nothing is hidden.
 */
export function sagaTimeline(events: readonly StoredEvent[], now: number = Date.now()): SagaTimelineEntry[] {
  const pendingDeadlines = new Map(sagaPendingDeadlines(events, now).map((deadline) => [deadline.deadlineId, deadline]));
  const started = events.length > 0 ? Date.parse(events[0].createdAt) : 0;
  const sentAt = new Map<string, { at: number; participant: { entityType: string; entityId: string } }>();
  const deadlines = new Map<string, { step?: string; retry: boolean }>();
  return events.map((event) => {
    const data = event.eventData;
    const at = Date.parse(event.createdAt);
    const base = { entityVersion: event.entityVersion, eventType: event.eventType, createdAt: event.createdAt, sinceStartMs: at - started };
    const step = typeof data.step === 'string' ? data.step : undefined;
    const commandId = typeof data.commandId === 'string' ? data.commandId : undefined;
    const sent = commandId === undefined ? undefined : sentAt.get(commandId);
    const reply = () => ({
      participant: sent?.participant,
      tookMs: sent === undefined ? undefined : at - sent.at,
      replyEventId: typeof data.replyEventId === 'string' ? data.replyEventId : undefined,
    });
    switch (event.eventType) {
      case 'SagaStarted':
        return { ...base, what: 'started', detail: compact(data.data) };
      case 'SagaStepSkipped':
        return { ...base, step, what: 'skipped', detail: 'its condition was false' };
      case 'SagaStepRequested':
      case 'SagaCompensationRequested': {
        const participant = { entityType: String(data.participantType), entityId: String(data.participantId) };
        if (commandId !== undefined) sentAt.set(commandId, { at, participant });
        const what = event.eventType === 'SagaStepRequested' ? 'action sent' : `compensation sent${Number(data.attempt) > 1 ? ` (attempt ${data.attempt})` : ''}`;
        return { ...base, step, what, participant, detail: `${String(data.commandType)} ${compact(data.command)}` };
      }
      case 'SagaStepSucceeded':
        return { ...base, step, what: 'succeeded', detail: String(data.replyEventType), ...reply() };
      case 'SagaStepFailed':
        return { ...base, step, what: 'failed', detail: String(data.reason), ...reply() };
      case 'SagaCompensationDone':
        return { ...base, step, what: 'compensated', detail: String(data.replyEventType), ...reply() };
      case 'SagaCompensationFailed':
        return { ...base, step, what: `compensation failed (attempt ${data.attempt})`, detail: String(data.reason), ...reply() };
      case 'DeadlineScheduled': {
        const payload = (data.payload ?? {}) as JsonObject;
        const deadline = { step: typeof payload.step === 'string' ? payload.step : undefined, retry: payload.kind === 'compensationRetry' };
        deadlines.set(String(data.deadlineId), deadline);
        const what = deadline.retry ? `compensation retry scheduled (attempt ${String(payload.attempt)})` : 'deadline set';
        const pending = pendingDeadlines.get(String(data.deadlineId));
        const pendingDeadline = pending && { deadlineId: pending.deadlineId, dueAt: pending.dueAt, overdueMs: pending.overdueMs };
        return { ...base, step: deadline.step, what, detail: `due ${String(data.dueAt)}`, ...(pendingDeadline && { pendingDeadline }) };
      }
      case 'DeadlineFired':
      case 'DeadlineCancelled': {
        const deadline = deadlines.get(String(data.deadlineId));
        const fired = event.eventType === 'DeadlineFired';
        const what = deadline?.retry ? (fired ? 'compensation retry due' : 'compensation retry cancelled') : fired ? 'deadline fired' : 'deadline cancelled';
        return { ...base, step: deadline?.step, what, detail: fired ? `due ${String(data.dueAt)}` : String(data.deadlineId) };
      }
      case 'SagaCompleted':
        return { ...base, what: TERMINAL[event.eventType], detail: compact(data.data) };
      case 'SagaRolledBack':
        return { ...base, step: nonEmpty(data.failedStep), what: TERMINAL[event.eventType], detail: String(data.reason) };
      case 'SagaFailed':
        return { ...base, step: nonEmpty(data.step), what: TERMINAL[event.eventType], detail: String(data.error) };
      default:
        return { ...base, step, what: event.eventType, detail: compact(data) };
    }
  });
}

/** How the saga stands after these events: its ending, else 'compensating' after a failed step, else 'running'. */
export function sagaTimelineOutcome(entries: readonly SagaTimelineEntry[]): string {
  const last = entries[entries.length - 1];
  if (last !== undefined && last.eventType in TERMINAL) return TERMINAL[last.eventType];
  return entries.some((entry) => entry.eventType === 'SagaStepFailed') ? 'compensating' : 'running';
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function compact(value: JsonObject | unknown): string {
  return JSON.stringify(value) ?? '';
}
