import type { SagaOrchestrator, SagaState } from '../../client';
import type { OrderData } from './order-saga-domain';

const ENDED = new Set(['completed', 'rolledBack', 'failed']);

/** Waits until the saga ended (completed, rolled back or failed); fails with where it stands after `timeoutMs`. */
export async function sagaEnded(orchestrator: SagaOrchestrator<OrderData>, sagaId: string, timeoutMs = 30_000): Promise<SagaState<OrderData>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await orchestrator.find(sagaId);
    if (ENDED.has(state.status)) return state;
    if (Date.now() > deadline) throw new Error(`saga ${sagaId} did not end within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
