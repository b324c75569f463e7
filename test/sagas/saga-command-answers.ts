import { SAGA_METADATA_KEYS, type EventStore, type SagaDefinition } from '../../client';
import type { TestDatabase } from '../support/database';

export interface CommandAnswers {
  step: string;
  kind: 'action' | 'compensation';
  /** The participants' events written under the command's id, in order. */
  replies: string[];
}

/**
 * The participants' events for each command of a saga, in the order the saga sent its commands. A
 * command applied twice shows as its replies written twice; each answer is checked to have been
 * written under the command's id as triggering token (in one append).
 */
export async function answersByCommand<D extends object>(db: TestDatabase, store: EventStore, saga: SagaDefinition<D>, sagaId: string): Promise<CommandAnswers[]> {
  const { events } = await store.history(saga.name, sagaId, { limit: 1000 });
  const commands = events.filter((e) => e.eventType === 'SagaStepRequested' || e.eventType === 'SagaCompensationRequested');
  return Promise.all(
    commands.map(async (command) => {
      const { rows } = await db.pool.query(
        `SELECT event_type, triggering_event FROM "${db.schema}".events WHERE entity_type = ANY($1) AND metadata->>$2 = $3 ORDER BY position`,
        [saga.participantTypes, SAGA_METADATA_KEYS.commandId, command.eventData.commandId],
      );
      for (const row of rows) expect(row.triggering_event).toBe(command.eventData.commandId);
      return { step: String(command.eventData.step), kind: command.eventType === 'SagaStepRequested' ? 'action' : 'compensation', replies: rows.map((r) => r.event_type) };
    }),
  );
}
