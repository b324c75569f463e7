/** A stored event this process cannot turn into an instance of its class. */
export class EventDeserializationError extends Error {
  constructor(
    readonly eventType: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventDeserializationError';
  }
}

/**
 * A stored event an aggregate cannot replay: no class for its type, no @Apply for it, or data
 * that does not read back. Rebuilding without it would give a state the history does not say.
 */
export class EventReplayError extends EventDeserializationError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly entityVersion: number,
    eventType: string,
    reason: string,
  ) {
    super(eventType, `cannot replay ${entityType} '${entityId}' at version ${entityVersion}: ${reason}`);
    this.name = 'EventReplayError';
  }
}
