/**
 * A deadline's records in its owner's stream. They change no state of an aggregate that owns
 * deadlines unless it has an @Apply for them: replays pass over those it does not apply.
 */
export const DEADLINE_RECORD_TYPES: ReadonlySet<string> = new Set(['DeadlineScheduled', 'DeadlineFired', 'DeadlineCancelled']);
