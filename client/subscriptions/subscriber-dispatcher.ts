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
    const { maxAttempts, backoff } = this.model;
    for (let attempt = 1; ; attempt++) {
      try {
        const context = new EventHandlerContext(deserializeStoredEvent(stored), stored);
        await (this.subscriber as Record<string, (context: EventHandlerContext) => unknown>)[methodName](context);
        return { kind: 'handled' };
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        // Reading the event fails the same way every time: no point retrying.
        const final = attempt >= maxAttempts || error instanceof EventDeserializationError || signal?.aborted;
        this.logger.warn(
          { err: error, subscriberId: this.subscriberId, eventId: stored.eventId, eventType: stored.eventType, attempt, maxAttempts },
          final ? 'event handler failed for the last time' : 'event handler failed; retrying',
        );
        if (final) return { kind: 'failed', error, attempts: attempt };
      }
      await sleep(jitteredBackoffMs(attempt, backoff), signal);
    }
  }
}
