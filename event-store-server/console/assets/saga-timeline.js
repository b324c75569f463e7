// @ts-check
/**
 * A saga instance's stream (entity type: the saga's name) as a timeline of steps, replies and
 * compensations. The browser's twin of client/sagas/saga-timeline.ts, which the CLI and the examples
 * use (the console ships as plain files and imports nothing from the server's TypeScript): keep the
 * two telling the same story. An event type this does not know is shown as it is, never left out.
 */

/**
 * @typedef {{ entityVersion: number, eventType: string, createdAt: string, sinceStartMs: number, step?: string,
 *   what: string, kind: 'start' | 'command' | 'reply' | 'failure' | 'end' | 'other',
 *   participant?: { entityType: string, entityId: string }, detail: string, tookMs?: number, replyEventId?: string }} SagaTimelineEntry
 */

/** Every saga instance's stream starts with it: the orchestrator's first append writes it. */
export const SAGA_STARTED = 'SagaStarted';

/** @type {Record<string, string>} */
const ENDINGS = { SagaCompleted: 'completed', SagaRolledBack: 'rolled back', SagaFailed: 'failed' };

/**
 * @param {import('./api.js').StoredEvent[]} events the instance's history, oldest first
 * @returns {SagaTimelineEntry[]}
 */
export function sagaTimeline(events) {
  const started = events.length > 0 ? Date.parse(events[0].createdAt) : 0;
  /** @type {Map<string, { at: number, participant: { entityType: string, entityId: string } }>} */
  const sentAt = new Map();
  return events.map((event) => {
    const data = event.eventData;
    const at = Date.parse(event.createdAt);
    const base = { entityVersion: event.entityVersion, eventType: event.eventType, createdAt: event.createdAt, sinceStartMs: at - started };
    const step = typeof data.step === 'string' ? data.step : undefined;
    const sent = typeof data.commandId === 'string' ? sentAt.get(data.commandId) : undefined;
    const reply = () => ({
      participant: sent?.participant,
      tookMs: sent === undefined ? undefined : at - sent.at,
      replyEventId: typeof data.replyEventId === 'string' ? data.replyEventId : undefined,
    });
    switch (event.eventType) {
      case SAGA_STARTED:
        return { ...base, kind: 'start', what: 'started', detail: JSON.stringify(data.data) };
      case 'SagaStepSkipped':
        return { ...base, kind: 'other', step, what: 'skipped', detail: 'its condition was false' };
      case 'SagaStepRequested':
      case 'SagaCompensationRequested': {
        const participant = { entityType: String(data.participantType), entityId: String(data.participantId) };
        if (typeof data.commandId === 'string') sentAt.set(data.commandId, { at, participant });
        const what = event.eventType === 'SagaStepRequested' ? 'action sent' : `compensation sent${Number(data.attempt) > 1 ? ` (attempt ${data.attempt})` : ''}`;
        return { ...base, kind: 'command', step, what, participant, detail: `${String(data.commandType)} ${JSON.stringify(data.command)}` };
      }
      case 'SagaStepSucceeded':
        return { ...base, kind: 'reply', step, what: 'succeeded', detail: String(data.replyEventType), ...reply() };
      case 'SagaStepFailed':
        return { ...base, kind: 'failure', step, what: 'failed', detail: String(data.reason), ...reply() };
      case 'SagaCompensationDone':
        return { ...base, kind: 'reply', step, what: 'compensated', detail: String(data.replyEventType), ...reply() };
      case 'SagaCompensationFailed':
        return { ...base, kind: 'failure', step, what: `compensation failed (attempt ${data.attempt})`, detail: String(data.reason), ...reply() };
      case 'SagaCompleted':
        return { ...base, kind: 'end', what: ENDINGS[event.eventType], detail: JSON.stringify(data.data) };
      case 'SagaRolledBack':
        return { ...base, kind: 'end', step: nonEmpty(data.failedStep), what: ENDINGS[event.eventType], detail: String(data.reason) };
      case 'SagaFailed':
        return { ...base, kind: 'failure', step: nonEmpty(data.step), what: ENDINGS[event.eventType], detail: String(data.error) };
      default:
        return { ...base, kind: 'other', step, what: event.eventType, detail: JSON.stringify(data) };
    }
  });
}

/**
 * How the saga stands: its ending, else 'compensating' after a failed step, else 'running'.
 * @param {SagaTimelineEntry[]} entries
 */
export function sagaOutcome(entries) {
  const last = entries[entries.length - 1];
  if (last !== undefined && last.eventType in ENDINGS) return ENDINGS[last.eventType];
  return entries.some((entry) => entry.eventType === 'SagaStepFailed') ? 'compensating' : 'running';
}

/** @param {unknown} value */
function nonEmpty(value) {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
