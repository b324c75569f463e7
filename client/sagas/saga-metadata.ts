import type { JsonObject } from '../../src/model';

/** Keys a participant writes into the metadata of its replies, so the orchestrator finds the saga and the command. */
export const SAGA_METADATA_KEYS = {
  sagaType: 'sagaType',
  sagaId: 'sagaId',
  commandId: 'sagaCommandId',
} as const;

/** Which saga instance and command a participant's event answers. */
export interface SagaReplyAddress {
  sagaType: string;
  sagaId: string;
  commandId: string;
}

export function sagaReplyMetadata(address: SagaReplyAddress): JsonObject {
  return { [SAGA_METADATA_KEYS.sagaType]: address.sagaType, [SAGA_METADATA_KEYS.sagaId]: address.sagaId, [SAGA_METADATA_KEYS.commandId]: address.commandId };
}

/** The saga an event answers, or undefined for an event no saga command caused. */
export function sagaReplyAddressOf(metadata: JsonObject | undefined): SagaReplyAddress | undefined {
  const sagaType = metadata?.[SAGA_METADATA_KEYS.sagaType];
  const sagaId = metadata?.[SAGA_METADATA_KEYS.sagaId];
  const commandId = metadata?.[SAGA_METADATA_KEYS.commandId];
  if (typeof sagaType !== 'string' || typeof sagaId !== 'string' || typeof commandId !== 'string') return undefined;
  return { sagaType, sagaId, commandId };
}
