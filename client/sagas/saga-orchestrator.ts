import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { DuplicateTriggeringEventError } from '../../src/errors';
import type { EventStore } from '../../src/event-store';
import type { JsonObject, StoredEvent } from '../../src/model';
import { AggregateRepository } from '../aggregate-repository';
import type { SubscriberModel } from '../decorators/event-subscriber';
import { deserializeStoredEvent } from '../serialization';
import type { EventRunner } from '../subscriptions/event-settler';
import { attemptHandling, type DispatchOutcome } from '../subscriptions/subscriber-dispatcher';
import type { SubscriberRuntime } from '../subscriptions/subscriber-runtime';
import type { SagaDefinition, SagaFailure } from './saga-definition';
import { SagaCompleted, SagaFailed, SagaRolledBack } from './saga-events';
import { RecordDeadline, RecordReply, StartSaga, sagaInstanceClass, type PendingSagaCommand, type SagaInstance, type SagaStatus } from './saga-instance';
import { sagaReplyAddressOf, SAGA_METADATA_KEYS } from './saga-metadata';
import { sagaSubscriberModel, type SagaSubscriberOptions } from './saga-subscriber-model';
import { PARTICIPANT_RECORD_TYPES } from './participant-record-types';
import { SagaDeadlineWatch, type OverdueSagaDeadline } from './saga-deadline-watch';
import type { DeadlineFired } from '../deadlines/deadline-events';

export interface SagaOrchestratorOptions extends SagaSubscriberOptions {
  /** Default: pino at LOG_LEVEL. */
  logger?: Logger;
  /**
   * How long past its due time a saga's deadline (a step's, a compensation retry's) may stay unfired
   * before the orchestrator logs it as an error and lists it in `overdueDeadlines()`: no deadline
   * scheduler fires the saga's type. Default 30 s; more than a scheduler's pollMs plus its leaseMs.
   */
  overdueAfterMs?: number;
}

/** A saga instance as the store has it now. */
export interface SagaState<D> {
  sagaId: string;
  /** The saga stream's version: every decision is one append. */
  version: number;
  status: SagaStatus;
  data: D;
  /** The command it waits on, if any. */
  pending?: PendingSagaCommand;
  /** A refused compensation waiting to be sent again (SagaOptions.compensationBackoff), if any. */
  compensationRetry?: { step: string; attempt: number; dueAt: string };
  /** The steps whose actions succeeded and are not compensated, in order. */
  doneSteps: string[];
  /** Why it rolled back or failed. */
  failure?: SagaFailure;
}

/**
 * Starts instances of one saga and drives them: add it to a SubscriptionManager (feedSource or
 * kafkaSource), where it reads the participants' replies and its own saga's events. Each reply is
 * recorded on the instance with the reply's event id as triggering token (a duplicate changes
 * nothing) and each decision is an append at the version read; so progress rests on the store's
 * tokens and versions alone, never on the subscriber's position, and survives any crash.
 */
export function sagaOrchestrator<D extends object>(definition: SagaDefinition<D>, store: EventStore, options: SagaOrchestratorOptions = {}): SagaOrchestrator<D> {
  return new SagaOrchestrator(definition, store, options);
}

export class SagaOrchestrator<D extends object> implements SubscriberRuntime {
  readonly subscriberModel: SubscriberModel;
  private readonly instances: AggregateRepository<SagaInstance>;
  private logger: Logger;
  private readonly deadlineWatch: SagaDeadlineWatch;

  constructor(
    readonly definition: SagaDefinition<D>,
    private readonly store: EventStore,
    options: SagaOrchestratorOptions,
  ) {
    this.instances = new AggregateRepository(sagaInstanceClass(definition), store);
    const replies = new Set([...PARTICIPANT_RECORD_TYPES, ...definition.steps.flatMap((step) => [...step.successReplies.keys(), ...step.failureReplies.keys()])]);
    this.subscriberModel = sagaSubscriberModel(
      SagaOrchestrator,
      `saga.${definition.name}`,
      [definition.name, ...definition.participantTypes.filter((type) => type !== definition.name)],
      ['SagaCompleted', 'SagaRolledBack', 'SagaFailed', 'DeadlineScheduled', 'DeadlineFired', 'DeadlineCancelled', ...replies],
      options,
    );
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
    const overdueAfterMs = options.overdueAfterMs ?? 30_000;
    if (!Number.isFinite(overdueAfterMs) || overdueAfterMs <= 0) throw new TypeError(`sagaOrchestrator '${definition.name}': overdueAfterMs must be a positive number of milliseconds, not ${overdueAfterMs}`);
    this.deadlineWatch = new SagaDeadlineWatch(definition.name, store, overdueAfterMs);
  }

  /**
   * The deadlines of this saga's instances still unfired `overdueAfterMs` past their due time,
   * confirmed in the store and logged as errors: no deadline scheduler fires this saga's type. Empty
   * when all is well; an entry leaves when the orchestrator reads its deadline fired or cancelled.
   */
  overdueDeadlines(): OverdueSagaDeadline[] {
    return this.deadlineWatch.overdue();
  }

  /**
   * Creates the instance and, in the same append, sends its first step's command (or completes it
   * when every step's condition is false). A definition that throws for the data writes nothing.
   */
  async start(data: D, options: { sagaId?: string } = {}): Promise<{ sagaId: string; version: number }> {
    const sagaId = options.sagaId ?? randomUUID();
    const written = await this.instances.save(new StartSaga(data as JsonObject, sagaId), { entityId: sagaId });
    return { sagaId: written.entityId, version: written.entityVersion };
  }

  async find(sagaId: string): Promise<SagaState<D>> {
    const { entity, entityVersion } = await this.instances.find(sagaId);
    return {
      sagaId,
      version: entityVersion,
      status: entity.status,
      data: entity.data as D,
      pending: entity.pending,
      compensationRetry: entity.compensationRetry && { step: entity.compensationRetry.step, attempt: entity.compensationRetry.attempt, dueAt: entity.compensationRetry.dueAt },
      doneSteps: entity.done.map((d) => d.step),
      failure: entity.failure,
    };
  }

  async open(logger: Logger): Promise<{ runner: EventRunner }> {
    this.logger = logger;
    this.deadlineWatch.start(logger);
    return { runner: { dispatch: (event, signal) => this.dispatch(event, signal) } };
  }

  async closed(): Promise<void> {
    await this.deadlineWatch.stop();
  }

  private async dispatch(stored: StoredEvent, signal?: AbortSignal): Promise<DispatchOutcome> {
    if (stored.entityType === this.definition.name) {
      // The deadline watch learns of each deadline from the saga's own stream (see SagaDeadlineWatch).
      const deadlineId = String(stored.eventData.deadlineId);
      if (stored.eventType === 'DeadlineScheduled') {
        this.deadlineWatch.scheduled(stored.entityId, deadlineId, String(stored.eventData.dueAt));
        return { kind: 'handled' };
      }
      if (stored.eventType === 'DeadlineCancelled') {
        this.deadlineWatch.settled(deadlineId, this.logger);
        return { kind: 'handled' };
      }
      if (stored.eventType === 'DeadlineFired') {
        // Fired is all the watch asks (whether the saga then decides is the subscriber's failure policy's business).
        this.deadlineWatch.settled(deadlineId, this.logger);
        return attemptHandling(this.subscriberModel, this.logger, stored, signal, () => this.deadlineFired(stored));
      }
      if (!['SagaCompleted', 'SagaRolledBack', 'SagaFailed'].includes(stored.eventType)) return { kind: 'skipped' };
      const outcome = await attemptHandling(this.subscriberModel, this.logger, stored, signal, () => this.ended(stored));
      this.deadlineWatch.sagaEnded(stored.entityId);
      return outcome;
    }
    const address = sagaReplyAddressOf(stored.metadata);
    if (address === undefined || address.sagaType !== this.definition.name) return { kind: 'skipped' };
    return attemptHandling(this.subscriberModel, this.logger, stored, signal, async () => {
      // A participant's own record (failure, tombstone) is always the whole answer.
      const lastOfCommand = PARTICIPANT_RECORD_TYPES.has(stored.eventType) || (await this.isLastOfCommand(stored, address.commandId));
      const reply = new RecordReply(address.commandId, stored.eventId, stored.eventType, deserializeStoredEvent(stored), lastOfCommand);
      try {
        await this.instances.update(address.sagaId, reply, { triggeringEventToken: stored.eventId, causationId: stored.eventId, correlationId: address.sagaId });
      } catch (error) {
        if (!(error instanceof DuplicateTriggeringEventError)) throw error;
      }
    });
  }

  /** A step's deadline: the instance decides whether it still waits on that step (once: the fired event's id is the token). */
  private async deadlineFired(stored: StoredEvent): Promise<void> {
    const { deadlineId } = deserializeStoredEvent(stored) as DeadlineFired;
    try {
      await this.instances.update(stored.entityId, new RecordDeadline(deadlineId), { triggeringEventToken: stored.eventId, causationId: stored.eventId, correlationId: stored.entityId });
    } catch (error) {
      if (!(error instanceof DuplicateTriggeringEventError)) throw error;
    }
  }

  /** A participant writes a command's events in one append, so the next version tells whether this was its last. */
  private async isLastOfCommand(stored: StoredEvent, commandId: string): Promise<boolean> {
    const next = await this.store.history(stored.entityType, stored.entityId, { fromVersion: stored.entityVersion + 1, limit: 1 });
    return next.events[0]?.metadata[SAGA_METADATA_KEYS.commandId] !== commandId;
  }

  /** Its hooks, at least once per ending (they should be idempotent); a failed saga is also logged as an error. */
  private async ended(stored: StoredEvent): Promise<void> {
    const event = deserializeStoredEvent(stored);
    const { hooks } = this.definition;
    const sagaId = stored.entityId;
    if (event instanceof SagaCompleted) await hooks.onCompleted?.(event.data as D, sagaId);
    if (event instanceof SagaRolledBack) await hooks.onRolledBack?.(event.data as D, sagaId, { step: event.failedStep, reason: event.reason });
    if (event instanceof SagaFailed) {
      this.logger.error({ saga: this.definition.name, sagaId, step: event.step, error: event.error }, 'saga failed and needs a person');
      await hooks.onFailed?.(event.data as D, sagaId, { step: event.step, reason: event.error });
    }
  }
}
