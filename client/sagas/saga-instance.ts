import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { isDeepStrictEqual } from 'node:util';
import type { JsonObject } from '../../src/model';
import { Apply, Process } from '../decorators/aggregate';
import { registerAggregate, type AggregateClass } from '../decorators/aggregate-registry';
import { RegistrationError, describeClass } from '../registration-error';
import { roundTripDifference } from '../round-trip-check';
import { fromJsonObject, toJsonObject } from '../serialization';
import { DeadlineCancelled, DeadlineScheduled } from '../deadlines/deadline-events';
import type { SagaDefinition, SagaStep } from './saga-definition';
import {
  SagaCommandFailed,
  SagaCompensationDone,
  SagaCompensationFailed,
  SagaCompensationRequested,
  SagaCompleted,
  SagaFailed,
  SagaRolledBack,
  SagaStarted,
  SagaStepFailed,
  SagaStepRequested,
  SagaStepSkipped,
  SagaStepSucceeded,
} from './saga-events';

export type SagaStatus = 'running' | 'compensating' | 'completed' | 'rolledBack' | 'failed';

/** The command a saga waits on. */
export interface PendingSagaCommand {
  step: string;
  commandId: string;
  kind: 'action' | 'compensation';
  participantType: string;
  participantId: string;
  /** Compensations: which attempt this is (from 1). */
  attempt: number;
  /** Compensations: the action's command id. */
  compensates?: string;
  /** Actions with a deadline: the deadline that fails the step when no answer came by `dueAt`. */
  deadlineId?: string;
  dueAt?: string;
}

/** Starts an instance with its data. */
export class StartSaga {
  constructor(
    readonly data: JsonObject,
    /** The instance's id (the entity id it is saved under): the ids of entities its steps create derive from it. */
    readonly sagaId: string,
    /** The time its step deadlines count from (the fixture's clock in tests). */
    readonly now: number = Date.now(),
  ) {}
}

/** A step's deadline fired (DeadlineFired in the saga's stream). */
export class RecordDeadline {
  constructor(readonly deadlineId: string) {}
}

/** A participant's event that names one of this saga's commands. */
export class RecordReply {
  constructor(
    readonly commandId: string,
    readonly replyEventId: string,
    readonly replyEventType: string,
    /** The event as an instance of its class, for the step's recorder. */
    readonly reply: object,
    /**
     * Whether it is the last event the participant wrote for the command. An event the step declares
     * neither as success nor as failure decides nothing, unless it is the last: then the command's
     * whole answer was unrecognised, and the step fails rather than wait for ever.
     */
    readonly lastOfCommand: boolean,
    /** The time the next step's deadline counts from. */
    readonly now: number = Date.now(),
  ) {}
}

/** A refused compensation waiting for its next attempt (SagaOptions.compensationBackoff): a deadline in the saga's stream. */
export interface SagaCompensationRetry {
  deadlineId: string;
  step: string;
  /** The action's command id, which the next attempt compensates. */
  compensates: string;
  /** The attempt it will be (from 2). */
  attempt: number;
  dueAt: string;
}

/** The `kind` in the payload of a compensation retry's DeadlineScheduled (a step's deadline has none). */
const COMPENSATION_RETRY = 'compensationRetry';

const TERMINAL: ReadonlySet<SagaStatus> = new Set(['completed', 'rolledBack', 'failed']);

/**
 * A saga instance as an aggregate: its state is rebuilt from its stream, and each decision (next
 * step, compensate, complete) is a @Process method, so the repository appends it at the version it
 * read and decides again on a conflict. One subclass per definition carries the definition and the
 * saga's entity type (sagaInstanceClass).
 */
export class SagaInstance {
  static definition: SagaDefinition;

  status: SagaStatus = 'running';
  data: JsonObject = {};
  /** From SagaStarted (undefined in sagas started before it was recorded there). */
  sagaId?: string;
  pending?: PendingSagaCommand;
  /** Steps whose action succeeded, in order, with the action's command id; compensated ones leave. */
  done: Array<{ step: string; commandId: string }> = [];
  failure?: { step: string; reason: string };
  /** Failed compensation attempts of the step being compensated. */
  compensationFailures = 0;
  /** A refused compensation waiting to be sent again. */
  compensationRetry?: SagaCompensationRetry;

  private get definition(): SagaDefinition {
    return (this.constructor as typeof SagaInstance).definition;
  }

  get ended(): boolean {
    return TERMINAL.has(this.status);
  }

  @Process(StartSaga)
  start(command: StartSaga): object[] {
    requireJson(command.data, `the data of saga '${this.definition.name}'`);
    const data = jsonClone(command.data);
    return [new SagaStarted(data, command.sagaId), ...this.advance(data, 0, true, this.done, command.now, command.sagaId)];
  }

  @Process(RecordReply)
  recordReply(command: RecordReply): object[] {
    const pending = this.pending;
    if (this.ended || pending === undefined || pending.commandId !== command.commandId) return [];
    if (pending.kind === 'compensation') return this.compensationReplied(pending, command);
    const decided = this.actionReplied(pending, command);
    // Answered in time: the deadline is off (a fire already under way finds the saga no longer waiting).
    return pending.deadlineId !== undefined && decided.length > 0 ? [new DeadlineCancelled(pending.deadlineId), ...decided] : decided;
  }

  /**
   * No answer by the deadline: the step fails and is compensated first, since its action may yet
   * happen or have happened (the participant undoes it, or tombstones it when the compensation
   * comes first); then the steps before, in reverse order. A later answer decides nothing.
   */
  @Process(RecordDeadline)
  recordDeadline(command: RecordDeadline): object[] {
    const retry = this.compensationRetry;
    if (!this.ended && retry?.deadlineId === command.deadlineId) return this.requestCompensation(this.definition.step(retry.step), retry.compensates, retry.attempt, this.data);
    const pending = this.pending;
    if (this.ended || pending?.kind !== 'action' || pending.deadlineId !== command.deadlineId) return [];
    const reason = `${pending.participantType} '${pending.participantId}' did not answer step '${pending.step}' by its deadline (${pending.dueAt})`;
    const failure = { step: pending.step, reason };
    return [new SagaStepFailed(pending.step, pending.commandId, reason, this.data), ...this.compensate([...this.done, { step: pending.step, commandId: pending.commandId }], this.data, failure)];
  }

  private actionReplied(pending: PendingSagaCommand, reply: RecordReply): object[] {
    const step = this.definition.step(pending.step);
    const { commandId } = pending;
    const { replyEventId, replyEventType } = reply;
    const success = step.successReplies.has(replyEventType);
    const failure = step.failureReplies.has(replyEventType) || reply.reply instanceof SagaCommandFailed;
    if (!success && !failure) {
      if (!reply.lastOfCommand) return [];
      const declared = [...step.successReplies.keys(), ...step.failureReplies.keys()].map((t) => `'${t}'`).join(', ');
      const reason = `${step.participantType} answered with '${replyEventType}', which step '${step.name}' declares neither as success nor failure (it declares ${declared})`;
      return [new SagaStepFailed(step.name, commandId, reason, this.data, replyEventId, replyEventType), ...this.compensate(this.done, this.data, { step: step.name, reason })];
    }
    let data: JsonObject;
    try {
      data = recorded(this.data, reply.reply, (success ? step.successReplies : step.failureReplies).get(replyEventType), step);
    } catch (error) {
      return [new SagaFailed(this.data, step.name, `recording reply '${replyEventType}' threw: ${describeError(error)}`)];
    }
    if (success) {
      const done = [...this.done, { step: step.name, commandId }];
      return [new SagaStepSucceeded(step.name, commandId, replyEventId, replyEventType, data), ...this.advance(data, step.index + 1, false, done, reply.now, this.sagaId)];
    }
    const reason =
      reply.reply instanceof SagaCommandFailed
        ? `${step.participantType} refused ${reply.reply.commandType}: ${reply.reply.errorName}: ${reply.reply.error}`
        : `${step.participantType} answered '${replyEventType}'`;
    return [new SagaStepFailed(step.name, commandId, reason, data, replyEventId, replyEventType), ...this.compensate(this.done, data, { step: step.name, reason })];
  }

  private compensationReplied(pending: PendingSagaCommand, reply: RecordReply): object[] {
    const { replyEventId, replyEventType } = reply;
    if (!(reply.reply instanceof SagaCommandFailed)) {
      const left = this.done.filter((d) => d.step !== pending.step);
      return [new SagaCompensationDone(pending.step, pending.commandId, replyEventId, replyEventType), ...this.compensate(left)];
    }
    const reason = `${reply.reply.errorName}: ${reply.reply.error}`;
    const failed = new SagaCompensationFailed(pending.step, pending.commandId, pending.attempt, replyEventId, replyEventType, reason);
    if (pending.attempt >= this.definition.compensationAttempts) {
      const error = `compensation of step '${pending.step}' failed ${pending.attempt} time${pending.attempt === 1 ? '' : 's'}; last: ${reason}`;
      return [failed, new SagaFailed(this.data, pending.step, error)];
    }
    const attempt = pending.attempt + 1;
    const delayMs = this.definition.compensationRetryDelayMs(attempt);
    if (delayMs === undefined) return [failed, ...this.requestCompensation(this.definition.step(pending.step), pending.compensates!, attempt, this.data)];
    // The wait is a deadline in this stream: it survives any restart, and fires once.
    const payload = { kind: COMPENSATION_RETRY, step: pending.step, commandId: pending.commandId, compensates: pending.compensates!, attempt, delayMs };
    const dueAt = new Date(reply.now + delayMs).toISOString();
    return [failed, new DeadlineScheduled(uuidv5(`${pending.commandId}:retry`, STEP_DEADLINE_NAMESPACE), `saga compensation retry ${pending.step}`, dueAt, payload)];
  }

  /**
   * The next step from `from` whose condition holds, or completion. At the start a definition that
   * throws throws to the caller (nothing is written); later it fails the step, and the saga compensates.
   */
  private advance(data: JsonObject, from: number, starting: boolean, done: ReadonlyArray<{ step: string; commandId: string }>, now: number, sagaId: string | undefined): object[] {
    const events: object[] = [];
    for (const step of this.definition.steps.slice(from)) {
      try {
        if (step.condition && !step.condition(jsonClone(data))) {
          events.push(new SagaStepSkipped(step.name));
          continue;
        }
        const { participantId, commandType, command } = commandFor(step, step.command, data, sagaId);
        const commandId = randomUUID();
        events.push(new SagaStepRequested(step.name, commandId, step.participantType, participantId, commandType, command, step.creates || undefined));
        if (step.deadline) events.push(stepDeadline(step, commandId, data, now));
      } catch (error) {
        if (starting) throw error;
        const reason = `the saga's definition threw for step '${step.name}': ${describeError(error)}`;
        events.push(new SagaStepFailed(step.name, '', reason, data), ...this.compensate(done, data, { step: step.name, reason }));
      }
      return events;
    }
    return [...events, new SagaCompleted(data)];
  }

  /** The compensation of the last done step that has one, or the end of the rollback. */
  private compensate(done: ReadonlyArray<{ step: string; commandId: string }>, data = this.data, failure = this.failure): object[] {
    for (const { step: name, commandId } of [...done].reverse()) {
      const step = this.definition.step(name);
      if (step.compensation) return this.requestCompensation(step, commandId, 1, data);
    }
    const { step, reason } = failure ?? { step: '', reason: '' };
    return [new SagaRolledBack(data, step, reason)];
  }

  private requestCompensation(step: SagaStep<any>, actionCommandId: string, attempt: number, data: JsonObject): object[] {
    try {
      const { participantId, commandType, command } = commandFor(step, step.compensation!, data, this.sagaId);
      return [new SagaCompensationRequested(step.name, randomUUID(), actionCommandId, attempt, step.participantType, participantId, commandType, command)];
    } catch (error) {
      return [new SagaFailed(data, step.name, `the saga's definition threw for the compensation of step '${step.name}': ${describeError(error)}`)];
    }
  }

  @Apply(SagaStarted)
  started(event: SagaStarted): void {
    this.data = event.data;
    this.sagaId = event.sagaId;
  }

  @Apply(SagaStepSkipped)
  skipped(_event: SagaStepSkipped): void {
    // Nothing to wait for and nothing to undo.
  }

  @Apply(SagaStepRequested)
  stepRequested(event: SagaStepRequested): void {
    this.pending = { step: event.step, commandId: event.commandId, kind: 'action', participantType: event.participantType, participantId: event.participantId, attempt: 1 };
  }

  @Apply(DeadlineScheduled)
  deadlineScheduled(event: DeadlineScheduled): void {
    const { payload } = event;
    if (payload.kind === COMPENSATION_RETRY) {
      this.compensationRetry = { deadlineId: event.deadlineId, step: String(payload.step), compensates: String(payload.compensates), attempt: Number(payload.attempt), dueAt: event.dueAt };
      return;
    }
    const pending = this.pending;
    if (pending !== undefined && pending.commandId === event.payload.commandId) this.pending = { ...pending, deadlineId: event.deadlineId, dueAt: event.dueAt };
  }

  @Apply(SagaStepSucceeded)
  stepSucceeded(event: SagaStepSucceeded): void {
    this.data = event.data;
    this.done.push({ step: event.step, commandId: event.commandId });
    this.pending = undefined;
  }

  @Apply(SagaStepFailed)
  stepFailed(event: SagaStepFailed): void {
    this.data = event.data;
    this.failure = { step: event.step, reason: event.reason };
    this.status = 'compensating';
    this.pending = undefined;
  }

  @Apply(SagaCompensationRequested)
  compensationRequested(event: SagaCompensationRequested): void {
    this.status = 'compensating';
    this.compensationRetry = undefined;
    this.pending = {
      step: event.step,
      commandId: event.commandId,
      kind: 'compensation',
      participantType: event.participantType,
      participantId: event.participantId,
      attempt: event.attempt,
      compensates: event.compensates,
    };
  }

  @Apply(SagaCompensationDone)
  compensationDone(event: SagaCompensationDone): void {
    this.done = this.done.filter((d) => d.step !== event.step);
    this.compensationFailures = 0;
    this.pending = undefined;
  }

  @Apply(SagaCompensationFailed)
  compensationFailed(_event: SagaCompensationFailed): void {
    this.compensationFailures++;
    this.pending = undefined;
  }

  @Apply(SagaCompleted)
  completed(event: SagaCompleted): void {
    this.data = event.data;
    this.status = 'completed';
    this.pending = undefined;
  }

  @Apply(SagaRolledBack)
  rolledBack(_event: SagaRolledBack): void {
    this.status = 'rolledBack';
    this.pending = undefined;
  }

  @Apply(SagaFailed)
  failed(event: SagaFailed): void {
    this.status = 'failed';
    this.failure = { step: event.step, reason: event.error };
    this.pending = undefined;
    this.compensationRetry = undefined;
  }
}

const instanceClasses = new WeakMap<SagaDefinition, AggregateClass<SagaInstance>>();

/** The aggregate class of a definition's instances (entity type: the saga's name), registered once. */
export function sagaInstanceClass(definition: SagaDefinition): AggregateClass<SagaInstance> {
  let cls = instanceClasses.get(definition);
  if (!cls) {
    const named = { [definition.name]: class extends SagaInstance {} }[definition.name];
    named.definition = definition;
    registerAggregate(named, definition.name);
    cls = named;
    instanceClasses.set(definition, cls);
  }
  return cls;
}

/** The deadline of a step's action, written with the action; its id is the action's, derived. */
function stepDeadline(step: SagaStep<any>, commandId: string, data: JsonObject, now: number): DeadlineScheduled {
  const ms = step.deadline!(jsonClone(data));
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new TypeError(`its deadline gave ${JSON.stringify(ms)}, not a positive number of milliseconds`);
  return new DeadlineScheduled(uuidv5(`${commandId}:deadline`, STEP_DEADLINE_NAMESPACE), `saga step ${step.name}`, new Date(now + ms).toISOString(), { step: step.name, commandId, ms });
}

const STEP_DEADLINE_NAMESPACE = '6e0a7c1d-3b9f-4d28-a5e4-8f1c2b7d9e30';

const CREATED_ENTITY_NAMESPACE = '1f7c3e9a-6b2d-4c85-9a1e-d4b8f2c60a17';

/**
 * The id of the entity that step `step` of saga instance `sagaId` creates (a step invoked with
 * `{ creates: true }` and no entityId): the same on every delivery of the command and for its compensation.
 */
export function sagaCreatedEntityId(sagaId: string, step: string): string {
  return uuidv5(`${sagaId}:${step}`, CREATED_ENTITY_NAMESPACE);
}

/** A step's command as the saga stream carries it, checked to read back as the same instance on the participant's side. */
function commandFor(step: SagaStep<any>, build: (data: any) => object, data: JsonObject, sagaId: string | undefined) {
  let participantId: unknown;
  if (step.entityId) participantId = step.entityId(jsonClone(data));
  else if (sagaId === undefined) throw new TypeError(`the step creates its entity, whose id derives from the saga's id, but this saga was started before its id was recorded in SagaStarted`);
  else participantId = sagaCreatedEntityId(sagaId, step.name);
  if (typeof participantId !== 'string' || participantId === '') throw new TypeError(`entityId gave ${JSON.stringify(participantId)}, not an entity id`);
  const instance = build(jsonClone(data));
  const commandClass = instance?.constructor;
  if (typeof instance !== 'object' || commandClass === Object || commandClass === undefined) {
    throw new TypeError(`the command must be an instance of a command class (the participant's @Process takes it by its class), not ${instance === null ? 'null' : typeof instance === 'object' ? 'a plain object' : typeof instance}`);
  }
  const command = toJsonObject(instance);
  const difference = roundTripDifference(instance, fromJsonObject(commandClass as new () => object, command));
  if (difference !== undefined) throw new RegistrationError(`command ${describeClass(commandClass)} would not read back as written: ${describeClass(commandClass)}${difference}`);
  return { participantId, commandType: commandClass.name, command };
}

/** The data after `record` saw the reply (it mutates a copy or returns new data), checked to stay JSON. */
function recorded(data: JsonObject, reply: object, record: ((data: any, reply: any) => unknown) | undefined, step: SagaStep<any>): JsonObject {
  if (!record) return data;
  const copy = jsonClone(data);
  const returned = record(copy, reply);
  const next = (returned === undefined ? copy : returned) as JsonObject;
  requireJson(next, `the data recorded by step '${step.name}'`);
  return next;
}

function requireJson(data: unknown, what: string): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError(`${what} must be a plain JSON object`);
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(data)), data)) {
    throw new TypeError(`${what} must be plain JSON (no Dates, class instances, undefined members, NaN): it is stored in the saga's events and read back from them`);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A copy of JSON data (not structuredClone, whose objects may come from another realm than the caller's, e.g. under jest). */
export function jsonClone<T>(data: T): T {
  return JSON.parse(JSON.stringify(data)) as T;
}
