/** Orchestrated sagas: a saga's instances are entities of the store, driven by an orchestrator and answered by participants. */
export { defineSaga, SagaBuilder, SagaDefinition, SagaStepBuilder } from './saga-definition';
export type { CompensationBackoff, ParticipantInvocation, ReplyRecorder, SagaFailure, SagaHooks, SagaOptions, SagaStep } from './saga-definition';
export { sagaOrchestrator, SagaOrchestrator } from './saga-orchestrator';
export type { SagaOrchestratorOptions, SagaState } from './saga-orchestrator';
export type { OverdueSagaDeadline } from './saga-deadline-watch';
export { sagaPendingDeadlines } from './saga-pending-deadlines';
export type { SagaPendingDeadline } from './saga-pending-deadlines';
export { sagaParticipant, SagaParticipant } from './saga-participant';
export type { SagaParticipantOptions } from './saga-participant';
export type { SagaSubscriberOptions } from './saga-subscriber-model';
export { sagaCreatedEntityId } from './saga-instance';
export type { PendingSagaCommand, SagaStatus } from './saga-instance';
export { SAGA_METADATA_KEYS } from './saga-metadata';
export { sagaTimeline, sagaTimelineOutcome } from './saga-timeline';
export type { SagaTimelineEntry } from './saga-timeline';
export {
  SagaActionCancelled,
  SagaCommandFailed,
  SagaCompensationDone,
  SagaCompensationFailed,
  SagaCompensationRequested,
  SagaCompleted,
  SagaFailed,
  SagaRolledBack,
  SagaStarted,
  SagaStepFailed,
  SagaStepRequested,
  SagaStepSkipped,
  SagaStepSucceeded,
} from './saga-events';
