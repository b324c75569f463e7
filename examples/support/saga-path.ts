import { sagaTimeline, type EventStore, type SagaOrchestrator, type SagaState, type SagaTimelineEntry } from 'eventuate-local-ts/client';
import { formatTable } from './table';

const ENDED = new Set(['completed', 'rolledBack', 'failed']);
const DETAIL_CHARS = 80;
const UUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/** Waits until the saga ended (completed, rolled back or failed); rejects with where it stands after `timeoutMs`. */
export async function sagaEnded<D extends object>(orchestrator: SagaOrchestrator<D>, sagaId: string, timeoutMs: number): Promise<SagaState<D>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await orchestrator.find(sagaId);
    if (ENDED.has(state.status)) return state;
    if (Date.now() > deadline) throw new Error(`saga ${orchestrator.definition.name} ${sagaId} did not end within ${timeoutMs} ms: it is ${state.status}, waiting on ${JSON.stringify(state.pending)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The saga's path as its own stream tells it: every event of the instance's history, oldest first. */
export async function sagaPath(store: EventStore, sagaType: string, sagaId: string): Promise<SagaTimelineEntry[]> {
  const events = [];
  for (let fromVersion: number | null = 1; fromVersion !== null; ) {
    const page = await store.history(sagaType, sagaId, { fromVersion, limit: 1000 });
    events.push(...page.events);
    fromVersion = page.nextFromVersion;
  }
  return sagaTimeline(events);
}

/**
 * One row per event of the saga: when (ms after its start), which step, what happened, with whom, and
 * how long the participant took. Ids in the detail are cut to their first 8 characters to fit a terminal.
 */
export function sagaPathTable(path: SagaTimelineEntry[]): string {
  return formatTable(
    ['#', 'ms', 'step', 'what', 'participant', 'took', 'detail'],
    path.map((e) => [
      e.entityVersion,
      e.sinceStartMs,
      e.step ?? '',
      e.what,
      e.participant ? e.participant.entityType : '',
      e.tookMs === undefined ? '' : `${e.tookMs} ms`,
      shortened(e.detail),
    ]),
  );
}

function shortened(detail: string): string {
  const text = detail.replace(UUID, '$1');
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
}

/** A saga's status as a person reads it: 'rolledBack' → 'rolled back'. */
export function statusText(status: string): string {
  return status.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);
}
