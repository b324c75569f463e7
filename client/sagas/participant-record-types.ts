/**
 * Event types a saga participant writes on its own entities beside the aggregate's events (a
 * failure reply, a tombstone). They change no state, so every aggregate's replay passes over them:
 * an aggregate taking part in a saga needs no @Apply for the framework's records.
 */
export const PARTICIPANT_RECORD_TYPES: ReadonlySet<string> = new Set(['SagaCommandFailed', 'SagaActionCancelled']);
