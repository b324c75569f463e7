import { randomUUID } from 'node:crypto';
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual, inspect } from 'node:util';
import type { JsonObject } from '../../src/model';
import { applyNewEvents, processCommand } from '../aggregate-runtime';
import { aggregateModelOf, type AggregateClass, type AggregateModel } from '../decorators/aggregate-registry';
import { describeClass } from '../registration-error';
import { requireRoundTrip, serializeEvent, toJsonObject, deserializeEvent } from '../serialization';
import type { SagaDefinition } from './saga-definition';
import { SagaCommandFailed, SagaCompensationRequested, SagaStepRequested } from './saga-events';
import { DeadlineCancelled, DeadlineScheduled } from '../deadlines/deadline-events';
import { RecordDeadline, RecordReply, StartSaga, jsonClone, sagaInstanceClass, type SagaInstance, type SagaStatus } from './saga-instance';

/** A command the saga sent, as the fixture shows it. */
export interface SentSagaCommand {
  kind: 'action' | 'compensation';
  step: string;
  participantType: string;
  participantId: string;
  commandType: string;
  command: JsonObject;
}

/**
 * Given a saga and its data, when participants answer with these events (or refuse with an error),
 * expect these commands and compensations in this order, and how it ended: the saga's decisions run
 * in memory, exactly as the orchestrator makes them, with no store.
 *
 *   sagaFixture(createOrderSaga).start({ orderId: 'o-1', customerId: 'c-1', total: 50 })
 *     .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
 *     .replyWith(new CreditReserved('o-1'))
 *     .expectCommand(Order, 'o-1', new ApproveOrder())
 *     .refuseWith(new Error('order cancelled'))
 *     .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
 *     .replyWith(new CreditReleased('o-1'))
 *     .expectRolledBack();
 */
export function sagaFixture<D extends object>(definition: SagaDefinition<D>): { start(data: D, options?: { sagaId?: string }): SagaFixture<D> } {
  return { start: (data, options = {}) => new SagaFixture(definition, data, options.sagaId ?? randomUUID()) };
}

export class SagaFixture<D extends object> {
  /** The saga stream's events so far, as the store would hold them. */
  readonly events: object[] = [];
  /** Every command sent, in order. */
  readonly sent: SentSagaCommand[] = [];
  /** Deadlines fired by advanceTime, in order. */
  readonly firedDeadlines: Array<{ deadlineId: string; step: string; dueAt: string }> = [];
  private checkedDeadlines = 0;
  private checked = 0;
  private replies = 0;
  /** The fixture's clock: deadlines count from it and fall due as advanceTime moves it. */
  private now = Date.now();
  private readonly scheduled = new Map<string, DeadlineScheduled>();
  private readonly model: AggregateModel<SagaInstance>;
  private readonly instance: SagaInstance;

  constructor(
    readonly definition: SagaDefinition<D>,
    data: D,
    /** The instance's id: the ids of entities its steps create derive from it (sagaCreatedEntityId). */
    readonly sagaId: string,
  ) {
    this.model = aggregateModelOf(sagaInstanceClass(definition) as AggregateClass<SagaInstance>);
    this.instance = new this.model.aggregateClass();
    this.decide(new StartSaga(data as JsonObject, sagaId, this.now));
  }

  get status(): SagaStatus {
    return this.instance.status;
  }

  get data(): D {
    return jsonClone(this.instance.data) as D;
  }

  /** The participant answered the pending command with these events (one append, in order). */
  replyWith(...events: object[]): this {
    const pending = this.requirePending('a reply');
    events.forEach((event, index) => {
      const { eventType, eventData, schemaVersion } = serializeEvent(event);
      requireRoundTrip(event);
      const reply = deserializeEvent(eventType, eventData, schemaVersion);
      this.decide(new RecordReply(pending.commandId, `reply-${++this.replies}`, eventType, reply, index === events.length - 1, this.now));
    });
    return this;
  }

  /** The participant's @Process threw `error` for the pending command: it answers with a failure record. */
  refuseWith(error: Error | string): this {
    const pending = this.requirePending('a refusal');
    const { name, message } = typeof error === 'string' ? { name: 'Error', message: error } : error;
    const commandType = [...this.sent].reverse().find((sent) => sent.step === pending.step)!.commandType;
    this.decide(new RecordReply(pending.commandId, `reply-${++this.replies}`, 'SagaCommandFailed', new SagaCommandFailed(commandType, name, message), true, this.now));
    return this;
  }

  /** Time passes: the deadlines that fall due meanwhile fire, in due order, as the scheduler would fire them. */
  advanceTime(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`advanceTime takes a non-negative number of milliseconds, not ${ms}`);
    this.now += ms;
    for (;;) {
      const due = [...this.scheduled.values()].filter((d) => Date.parse(d.dueAt) <= this.now).sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))[0];
      if (!due) return this;
      this.scheduled.delete(due.deadlineId);
      this.firedDeadlines.push({ deadlineId: due.deadlineId, step: String(due.payload.step), dueAt: due.dueAt });
      this.decide(new RecordDeadline(due.deadlineId));
    }
  }

  /** The next deadline fired (after those already expected) was the deadline of `step`. */
  expectDeadlineFired(step: string): this {
    const next = this.firedDeadlines[this.checkedDeadlines];
    if (next?.step !== step) {
      fail(`expected the deadline of step '${step}' to fire, but ${next ? `the deadline of step '${next.step}' fired` : 'no more deadlines fired'}`, step, next?.step);
    }
    this.checkedDeadlines++;
    return this;
  }

  /** No deadline fired beyond those already expected. */
  expectNoDeadlineFired(): this {
    const rest = this.firedDeadlines.slice(this.checkedDeadlines);
    if (rest.length > 0) fail(`expected no deadline to fire, but ${rest.map((d) => `step '${d.step}'s`).join(', ')} fired`, [], rest);
    return this;
  }

  /** The next command sent (after those already expected) is this action to this entity. */
  expectCommand(participant: AggregateClass | string, entityId: string, command: object): this {
    return this.expectNext('action', participant, entityId, command);
  }

  /** The next command sent (after those already expected) is this compensation to this entity. */
  expectCompensation(participant: AggregateClass | string, entityId: string, command: object): this {
    return this.expectNext('compensation', participant, entityId, command);
  }

  /** No command was sent beyond those already expected. */
  expectNoMoreCommands(): this {
    const rest = this.sent.slice(this.checked);
    if (rest.length > 0) fail(`expected no more commands but the saga sent ${inspect(rest, { depth: 6 })}`, [], rest);
    return this;
  }

  expectCompleted(): this {
    return this.expectStatus('completed');
  }

  /** Rolled back after `step` failed (when given), with a reason matching `reason` (when given). */
  expectRolledBack(step?: string, reason?: string | RegExp): this {
    this.expectStatus('rolledBack');
    return this.expectFailure(step, reason);
  }

  /** Marked failed (a compensation kept failing, its definition threw), at `step`, with an error matching `reason`. */
  expectFailed(step?: string, reason?: string | RegExp): this {
    this.expectStatus('failed');
    return this.expectFailure(step, reason);
  }

  expectStatus(status: SagaStatus): this {
    if (this.instance.status !== status) fail(`expected the saga ${status} but it is ${this.instance.status}${this.describeFailure()}`, status, this.instance.status);
    return this;
  }

  /** Checks the saga's data; `check` throws (an expect) or returns false to fail. */
  expectData(check: (data: D) => unknown): this {
    if (check(this.data) === false) fail(`the data check failed for ${inspect(this.instance.data, { depth: 8 })}`, true, false);
    return this;
  }

  private expectNext(kind: SentSagaCommand['kind'], participant: AggregateClass | string, entityId: string, command: object): this {
    const participantType = typeof participant === 'string' ? participant : aggregateModelOf(participant).entityType;
    const expected = { kind, participantType, participantId: entityId, commandType: describeClass(command.constructor), command: toJsonObject(command) };
    const next = this.sent[this.checked];
    if (next === undefined) fail(`expected ${kind} ${inspect(expected, { depth: 6 })} but the saga sent nothing more (it is ${this.instance.status}${this.describeFailure()})`, expected, undefined);
    const { step: _step, ...actual } = next;
    if (!isDeepStrictEqual(actual, expected)) fail(`expected ${inspect(expected, { depth: 6 })}\nbut the saga sent ${inspect(next, { depth: 6 })}`, expected, actual);
    this.checked++;
    return this;
  }

  private expectFailure(step: string | undefined, reason: string | RegExp | undefined): this {
    const failure = this.instance.failure;
    if (step !== undefined && failure?.step !== step) fail(`expected the failure at step '${step}'${this.describeFailure()}`, step, failure?.step);
    if (reason !== undefined) {
      const text = failure?.reason ?? '';
      const matches = typeof reason === 'string' ? text.includes(reason) : reason.test(text);
      if (!matches) fail(`expected a failure reason matching ${inspect(reason)}${this.describeFailure()}`, reason, text);
    }
    return this;
  }

  private requirePending(what: string) {
    const pending = this.instance.pending;
    if (!pending) fail(`${what} to no command: the saga waits on none (it is ${this.instance.status}${this.describeFailure()})`, 'a pending command', undefined);
    return pending;
  }

  /** Runs a decision as the orchestrator does and keeps its events as they would read back from the store. */
  private decide(command: object): void {
    const events = processCommand(this.model, this.instance, command);
    for (const event of events) requireRoundTrip(event);
    applyNewEvents(this.model, this.instance, events);
    this.events.push(...events);
    for (const event of events) {
      if (event instanceof DeadlineScheduled) this.scheduled.set(event.deadlineId, event);
      if (event instanceof DeadlineCancelled) this.scheduled.delete(event.deadlineId);
      if (event instanceof SagaStepRequested || event instanceof SagaCompensationRequested) {
        const { step, participantType, participantId, commandType, command: data } = event;
        this.sent.push({ kind: event instanceof SagaStepRequested ? 'action' : 'compensation', step, participantType, participantId, commandType, command: data });
      }
    }
  }

  private describeFailure(): string {
    const failure = this.instance.failure;
    return failure ? `; step '${failure.step}': ${failure.reason}` : '';
  }
}

function fail(message: string, expected: unknown, actual: unknown): never {
  throw new AssertionError({ message, expected, actual });
}
