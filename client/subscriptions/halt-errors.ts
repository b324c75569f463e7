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
 * The dead-letter store kept failing while the subscriber needed it (to dead-letter or park an
 * event, or to read which entities are parked): it stopped instead of going past an event
 * unrecorded or handling one out of order, so nothing past it was committed.
 */
export class DeadLetterStoreError extends Error {
  constructor(
    readonly subscriberId: string,
    /** The event it was recording or parking, if it was. */
    readonly eventId: string | undefined,
    readonly attempts: number,
    override readonly cause: Error,
  ) {
    super(
      `subscriber ${subscriberId} stopped: its dead-letter store failed ${attempts} times while ${eventId ? `recording event ${eventId}` : 'reading its parked entities'} (${cause.message}). ` +
        'It stopped rather than go past an event unrecorded or out of order; once the store works again, start the subscriber: what was not committed is delivered again.',
    );
    this.name = 'DeadLetterStoreError';
  }
}
