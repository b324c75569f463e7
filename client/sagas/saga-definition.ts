import { entityTypeRegex } from '../../src/names';
import { aggregateModelOf, type AggregateClass } from '../decorators/aggregate-registry';
import { eventTypeOf, type EventClass } from '../decorators/event-registry';
import { RegistrationError, describeClass } from '../registration-error';

/** Records what the saga needs from a reply into its data: mutate `data`, or return the new data. */
export type ReplyRecorder<D, E> = (data: D, reply: E) => D | void;

/** The saga's failure as its hooks see it: which step failed, and why. */
export interface SagaFailure {
  step: string;
  reason: string;
}

export interface SagaHooks<D> {
  onCompleted?: (data: D, sagaId: string) => unknown;
  /** Every step done before `failure.step` was compensated. */
  onRolledBack?: (data: D, sagaId: string, failure: SagaFailure) => unknown;
  /** The saga stopped and needs a person: a compensation kept failing, or its definition threw. */
  onFailed?: (data: D, sagaId: string, failure: SagaFailure) => unknown;
}

export interface ParticipantInvocation<D> {
  /**
   * The participant entity the command is for. With `creates`, optional: the new entity's id is then
   * derived from the saga's id and the step's name (sagaCreatedEntityId), so every delivery of the
   * command, and its compensation, names the same entity.
   */
  entityId?: (data: D) => string;
  /** The command (a plain class instance its @Process method takes). */
  command: (data: D) => object;
  /**
   * The command creates the participant's entity (the participant saves it rather than updates it),
   * once however often it is delivered: the create is written under the command's id as token, and
   * a redelivery finds the entity made by it.
   */
  creates?: boolean;
}

/** One step as the orchestrator runs it. */
export interface SagaStep<D> {
  readonly name: string;
  readonly index: number;
  readonly participantType: string;
  /** Undefined for a step that creates its entity: its id is sagaCreatedEntityId(sagaId, name). */
  readonly entityId?: (data: D) => string;
  /** The action creates the participant's entity. */
  readonly creates: boolean;
  readonly command: (data: D) => object;
  /** Sent to the same participant entity when a later step fails. */
  readonly compensation?: (data: D) => object;
  /** False: the step is skipped (and never compensated). */
  readonly condition?: (data: D) => boolean;
  /** Milliseconds the participant has to answer; then the step fails and the saga compensates it and the steps before. */
  readonly deadline?: (data: D) => number;
  /** Event type → what the saga records from it; these replies mean the action succeeded. */
  readonly successReplies: ReadonlyMap<string, ReplyRecorder<D, any> | undefined>;
  /** Event type → what the saga records from it; these replies mean the action failed (the saga compensates). */
  readonly failureReplies: ReadonlyMap<string, ReplyRecorder<D, any> | undefined>;
}

export interface SagaOptions {
  /** How many times a compensation is sent before the saga is marked failed. Default 3. */
  compensationAttempts?: number;
  /**
   * How long a refused compensation waits before it is sent again: `baseMs` after the first
   * refusal, doubled after each next one, at most `maxMs` (default 100 x baseMs). The wait is a
   * deadline in the saga's stream, so it survives any restart: it needs a deadlineScheduler reading
   * the saga's entity type, as withDeadline does. Without it, a refused compensation is sent again at once.
   */
  compensationBackoff?: CompensationBackoff;
}

export interface CompensationBackoff {
  baseMs: number;
  maxMs?: number;
}

/** A saga's steps and hooks, as `defineSaga(...)...build()` made them; its name is its entity type in the store. */
export class SagaDefinition<D extends object = any> {
  constructor(
    readonly name: string,
    readonly steps: readonly SagaStep<D>[],
    readonly hooks: SagaHooks<D>,
    readonly compensationAttempts: number,
    /** Undefined: a refused compensation is sent again at once. */
    readonly compensationBackoff?: Required<CompensationBackoff>,
  ) {}

  /** The wait before compensation attempt `attempt` (from 2), or undefined to send it at once. */
  compensationRetryDelayMs(attempt: number): number | undefined {
    const backoff = this.compensationBackoff;
    if (backoff === undefined) return undefined;
    return Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 2));
  }

  /** The entity types whose events may answer this saga's commands. */
  get participantTypes(): string[] {
    return [...new Set(this.steps.map((step) => step.participantType))].sort();
  }

  step(name: string): SagaStep<D> {
    const step = this.steps.find((s) => s.name === name);
    if (!step) throw new RegistrationError(`saga '${this.name}' has no step '${name}' (it has ${this.steps.map((s) => `'${s.name}'`).join(', ')})`);
    return step;
  }
}

/**
 * Starts a saga definition over data of type D (plain JSON: it is stored in the saga's events).
 * The name is the saga instances' entity type. The shape is Eventuate Tram's:
 *
 *   defineSaga<OrderData>('CreateOrderSaga')
 *     .step('reserveCredit')
 *       .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.total) })
 *       .onSuccess(CreditReserved, (d, reply) => { d.reservationId = reply.reservationId; })
 *       .onFailure(CreditLimitExceeded)
 *       .withCompensation((d) => new ReleaseCredit(d.orderId))
 *     .step('approveOrder') ...
 *     .build();
 */
export function defineSaga<D extends object>(name: string, options: SagaOptions = {}): SagaBuilder<D> {
  return new SagaBuilder<D>(name, options);
}

interface StepDraft<D> {
  name: string;
  participantType?: string;
  participantClass?: AggregateClass;
  invocation?: ParticipantInvocation<D>;
  compensation?: (data: D) => object;
  condition?: (data: D) => boolean;
  deadline?: (data: D) => number;
  successReplies: Map<string, ReplyRecorder<D, any> | undefined>;
  failureReplies: Map<string, ReplyRecorder<D, any> | undefined>;
}

export class SagaBuilder<D extends object> {
  private readonly drafts: StepDraft<D>[] = [];
  private readonly hooks: SagaHooks<D> = {};

  constructor(
    private readonly name: string,
    private readonly options: SagaOptions,
  ) {}

  /** A new step, run after the previous one succeeded. */
  step(name: string): SagaStepBuilder<D> {
    const draft: StepDraft<D> = { name, successReplies: new Map(), failureReplies: new Map() };
    this.drafts.push(draft);
    return new SagaStepBuilder(this, draft, this.where(name));
  }

  onCompleted(hook: NonNullable<SagaHooks<D>['onCompleted']>): this {
    this.hooks.onCompleted = hook;
    return this;
  }

  onRolledBack(hook: NonNullable<SagaHooks<D>['onRolledBack']>): this {
    this.hooks.onRolledBack = hook;
    return this;
  }

  onFailed(hook: NonNullable<SagaHooks<D>['onFailed']>): this {
    this.hooks.onFailed = hook;
    return this;
  }

  /** Checks the definition now, so a mistake surfaces when the module loads. */
  build(): SagaDefinition<D> {
    const where = `saga '${this.name}'`;
    if (typeof this.name !== 'string' || !entityTypeRegex.test(this.name)) {
      throw new RegistrationError(`${where}: the name is its entity type in the store, so it must match ${entityTypeRegex.source}`);
    }
    const attempts = this.options.compensationAttempts ?? 3;
    if (!Number.isInteger(attempts) || attempts < 1) throw new RegistrationError(`${where}: compensationAttempts must be a positive integer, not ${attempts}`);
    const backoff = this.options.compensationBackoff;
    if (backoff !== undefined) {
      const maxMs = backoff.maxMs ?? backoff.baseMs * 100;
      if (!Number.isFinite(backoff.baseMs) || backoff.baseMs <= 0 || !Number.isFinite(maxMs) || maxMs < backoff.baseMs) {
        throw new RegistrationError(`${where}: compensationBackoff needs a positive baseMs and a maxMs at least as large (milliseconds), not ${JSON.stringify(backoff)}`);
      }
    }
    if (this.drafts.length === 0) throw new RegistrationError(`${where}: it has no steps`);
    const names = new Set<string>();
    const steps = this.drafts.map((draft, index): SagaStep<D> => {
      const at = this.where(draft.name);
      if (typeof draft.name !== 'string' || draft.name === '') throw new RegistrationError(`${where}: step ${index + 1} needs a name`);
      if (names.has(draft.name)) throw new RegistrationError(`${at}: two steps have this name`);
      names.add(draft.name);
      if (!draft.invocation || !draft.participantType) throw new RegistrationError(`${at}: say whom it asks: .invokeParticipant(AggregateClass, { entityId, command })`);
      if (draft.successReplies.size === 0) throw new RegistrationError(`${at}: say which reply means success: .onSuccess(EventClass)`);
      if (draft.deadline && !draft.compensation) {
        throw new RegistrationError(`${at}: a step with a deadline needs .withCompensation(...): a success that arrives after the deadline failed the step must be undone, not kept`);
      }
      return {
        name: draft.name,
        index,
        participantType: draft.participantType,
        entityId: draft.invocation.entityId,
        creates: draft.invocation.creates === true,
        command: draft.invocation.command,
        compensation: draft.compensation,
        condition: draft.condition,
        deadline: draft.deadline,
        successReplies: draft.successReplies,
        failureReplies: draft.failureReplies,
      };
    });
    const compensationBackoff = backoff && { baseMs: backoff.baseMs, maxMs: backoff.maxMs ?? backoff.baseMs * 100 };
    return new SagaDefinition(this.name, steps, { ...this.hooks }, attempts, compensationBackoff);
  }

  private where(step: string): string {
    return `saga '${this.name}', step '${step}'`;
  }
}

/** Declares one step; `.step()`, the hooks and `.build()` carry on with the saga. */
export class SagaStepBuilder<D extends object> {
  constructor(
    private readonly saga: SagaBuilder<D>,
    private readonly draft: StepDraft<D>,
    private readonly where: string,
  ) {}

  /**
   * The command this step sends, and to which entity: `participant` is its @Aggregate class (its
   * replies are then checked against it), or its entity type when this process does not load it.
   */
  invokeParticipant<A>(participant: AggregateClass<A> | string, invocation: ParticipantInvocation<D>): this {
    if (this.draft.invocation) throw new RegistrationError(`${this.where}: invokeParticipant is given twice`);
    if (typeof invocation?.command !== 'function' || (invocation.entityId !== undefined && typeof invocation.entityId !== 'function')) {
      throw new RegistrationError(`${this.where}: invokeParticipant needs { entityId: (data) => string, command: (data) => new SomeCommand(...) }`);
    }
    if (invocation.entityId === undefined && invocation.creates !== true) {
      throw new RegistrationError(`${this.where}: invokeParticipant needs entityId: (data) => string, unless the command creates the entity ({ creates: true }, its id then derived from the saga's)`);
    }
    if (typeof participant === 'string') {
      if (!entityTypeRegex.test(participant)) throw new RegistrationError(`${this.where}: '${participant}' is not an entity type (${entityTypeRegex.source})`);
      this.draft.participantType = participant;
    } else {
      this.draft.participantClass = participant;
      this.draft.participantType = aggregateModelOf(participant).entityType;
    }
    this.draft.invocation = invocation;
    return this;
  }

  /** A reply of this @DomainEvent class means the action succeeded; `record` keeps what the saga needs from it. */
  onSuccess<E>(eventClass: EventClass<E>, record?: ReplyRecorder<D, E>): this {
    this.draft.successReplies.set(this.replyType(eventClass, 'onSuccess'), record);
    return this;
  }

  /** A reply of this @DomainEvent class means the action failed: the saga compensates the steps before. */
  onFailure<E>(eventClass: EventClass<E>, record?: ReplyRecorder<D, E>): this {
    this.draft.failureReplies.set(this.replyType(eventClass, 'onFailure'), record);
    return this;
  }

  /** Undoes this step's action, sent to the same entity when a later step fails. */
  withCompensation(command: (data: D) => object): this {
    if (typeof command !== 'function') throw new RegistrationError(`${this.where}: withCompensation takes (data) => new SomeCommand(...)`);
    this.draft.compensation = command;
    return this;
  }

  /** The step runs only when `condition(data)` holds; otherwise it is skipped (and never compensated). */
  when(condition: (data: D) => boolean): this {
    if (typeof condition !== 'function') throw new RegistrationError(`${this.where}: when takes (data) => boolean`);
    this.draft.condition = condition;
    return this;
  }

  /**
   * The participant has `ms` milliseconds (or `ms(data)`) to answer; then the step fails and the
   * saga compensates, this step first: its compensation reaches the participant after the action,
   * which it undoes, or before it, and the late action is refused. Needs a deadlineScheduler reading
   * the saga's entity type, and a compensation.
   */
  withDeadline(ms: number | ((data: D) => number)): this {
    if (typeof ms === 'number') {
      if (!Number.isFinite(ms) || ms <= 0) throw new RegistrationError(`${this.where}: withDeadline takes a positive number of milliseconds, not ${ms}`);
      this.draft.deadline = () => ms;
    } else if (typeof ms === 'function') this.draft.deadline = ms;
    else throw new RegistrationError(`${this.where}: withDeadline takes milliseconds or (data) => milliseconds`);
    return this;
  }

  step(name: string): SagaStepBuilder<D> {
    return this.saga.step(name);
  }

  onCompleted(hook: NonNullable<SagaHooks<D>['onCompleted']>): SagaBuilder<D> {
    return this.saga.onCompleted(hook);
  }

  onRolledBack(hook: NonNullable<SagaHooks<D>['onRolledBack']>): SagaBuilder<D> {
    return this.saga.onRolledBack(hook);
  }

  onFailed(hook: NonNullable<SagaHooks<D>['onFailed']>): SagaBuilder<D> {
    return this.saga.onFailed(hook);
  }

  build(): SagaDefinition<D> {
    return this.saga.build();
  }

  private replyType(eventClass: EventClass, method: string): string {
    if (typeof eventClass !== 'function') throw new RegistrationError(`${this.where}: ${method} takes a @DomainEvent class`);
    const eventType = eventTypeOf(eventClass);
    if (this.draft.successReplies.has(eventType) || this.draft.failureReplies.has(eventType)) {
      throw new RegistrationError(`${this.where}: reply '${eventType}' is declared twice (as success or failure)`);
    }
    const participant = this.draft.participantClass;
    if (participant) {
      const model = aggregateModelOf(participant);
      if (!model.applyHandlers.has(eventType) && !model.ignoredEventTypes.has(eventType)) {
        throw new RegistrationError(
          `${this.where}: ${describeClass(participant)} never emits '${eventType}' (it has no @Apply for it), so this reply could never come`,
        );
      }
    }
    return eventType;
  }
}
