import { v5 as uuidv5 } from 'uuid';
import { DomainEvent } from '../decorators/domain-event';
import type { JsonObject } from '../../src/model';

/**
 * A deadline lives in its owner's stream: scheduled, then fired or cancelled. The owner is any
 * entity (an aggregate, a saga instance); the deadline scheduler indexes these events by due time
 * and fires a deadline by appending DeadlineFired to the owner under the deadline's id as
 * triggering token. `cancel` takes the same token, so a deadline is fired or cancelled, never both.
 */

@DomainEvent('DeadlineScheduled')
export class DeadlineScheduled {
  constructor(
    public deadlineId: string,
    /** What the deadline is for, as the owner's handlers tell deadlines apart. */
    public name: string,
    /** When it falls due (ISO 8601). */
    public dueAt: string,
    public payload: JsonObject = {},
  ) {}
}

/** The deadline fell due: written once, under the deadline's id as token, with what was scheduled. */
@DomainEvent('DeadlineFired')
export class DeadlineFired {
  constructor(
    public deadlineId: string,
    public name: string,
    public dueAt: string,
    public payload: JsonObject = {},
  ) {}
}

@DomainEvent('DeadlineCancelled')
export class DeadlineCancelled {
  constructor(public deadlineId: string) {}
}

const DEADLINE_EVENT_NAMESPACE = '9d2c4b7e-5a1f-4e3b-8c6d-2f7a9e0b1c45';

/** The event id of a deadline's record, derived from the deadline, so a retried write is recognised as the same one. */
export function deadlineEventId(deadlineId: string, record: 'scheduled' | 'fired' | 'cancelled'): string {
  return uuidv5(`${deadlineId}:${record}`, DEADLINE_EVENT_NAMESPACE);
}
