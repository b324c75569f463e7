/** Why a subscriber stopped by itself; raised through onSubscriberHalted and shown in its status. */

/** A subscriber with onFailure 'stop' gave up on an event: nothing past it was committed. */
export class SubscriberHaltedError extends Error {
  constructor(
    readonly subscriberId: string,
    readonly eventId: string,
    override readonly cause: Error,
  ) {
    super(`subscriber ${subscriberId} stopped: its handler failed for event ${eventId}: ${cause.message}`);
    this.name = 'SubscriberHaltedError';
  }
}

/**
 * The dead-letter store kept failing while the subscriber tried to dead-letter or park an event: it
 * stopped instead of going past the event, so nothing past it was committed.
 */
export class DeadLetterStoreError extends Error {
  constructor(
    readonly subscriberId: string,
    readonly eventId: string,
    readonly attempts: number,
    override readonly cause: Error,
  ) {
    super(
      `subscriber ${subscriberId} stopped: its dead-letter store failed ${attempts} times while recording event ${eventId} (${cause.message}). ` +
        'It stopped rather than go past the event unrecorded; once the store works again, start the subscriber: the event is delivered again.',
    );
    this.name = 'DeadLetterStoreError';
  }
}
