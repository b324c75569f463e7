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
