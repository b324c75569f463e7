import type { Logger } from 'pino';
import type { StoredEvent } from '../../src/model';
import { EventDeserializationError } from '../event-deserialization-error';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { deserializeStoredEvent } from '../serialization';
import { EventHandlerContext } from './event-handler-context';
import type { SubscriberModel } from '../decorators/event-subscriber';

export type DispatchOutcome =
  | { kind: 'handled' }
  /** No handler for this event type: nothing to do. */
  | { kind: 'skipped' }
  /** Every attempt failed (or the event cannot be read); the subscriber's failure policy decides. */
  | { kind: 'failed'; error: Error; attempts: number };

/** Runs one subscriber's handler for an event, with bounded retries and backoff. */
export class SubscriberDispatcher {
  constructor(
    private readonly subscriber: object,
    readonly model: SubscriberModel,
    private readonly logger: Logger,
  ) {}

  get subscriberId(): string {
    return this.model.subscriberId;
  }

  /** `signal` ends the retrying early (the subscriber is stopping): the outcome is then 'failed'. */
  async dispatch(stored: StoredEvent, signal?: AbortSignal): Promise<DispatchOutcome> {
    const methodName = this.model.handlers.get(stored.eventType);
    if (methodName === undefined) return { kind: 'skipped' };
    return attemptHandling(this.model, this.logger, stored, signal, async () => {
      const context = new EventHandlerContext(deserializeStoredEvent(stored), stored);
      await (this.subscriber as Record<string, (context: EventHandlerContext) => unknown>)[methodName](context);
    });
  }
}

/**
 * Runs `handle` for one event up to the subscriber's maxAttempts, with its backoff between attempts;
 * never throws. An event that cannot be read fails the same way every time, so it is not retried.
 */
export async function attemptHandling(
  model: SubscriberModel,
  logger: Logger,
  stored: StoredEvent,
  signal: AbortSignal | undefined,
  handle: () => Promise<void>,
): Promise<DispatchOutcome> {
  const { maxAttempts, backoff, subscriberId } = model;
  for (let attempt = 1; ; attempt++) {
    try {
      await handle();
      return { kind: 'handled' };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const final = attempt >= maxAttempts || error instanceof EventDeserializationError || signal?.aborted;
      logger.warn(
        { err: error, subscriberId, eventId: stored.eventId, eventType: stored.eventType, attempt, maxAttempts },
        final ? 'event handler failed for the last time' : 'event handler failed; retrying',
      );
      if (final) return { kind: 'failed', error, attempts: attempt };
    }
    await sleep(jitteredBackoffMs(attempt, backoff), signal);
  }
}
