import pino, { type Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import { DuplicateTriggeringEventError, EntityAlreadyExistsError, EntityNotFoundError, EventNotFoundError, EventStoreError, OptimisticLockingError } from '../../src/errors';
import type { EventStore } from '../../src/event-store';
import type { JsonObject, StoredEvent } from '../../src/model';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { AggregateRepository, type AggregateRepositoryOptions } from '../aggregate-repository';
import { aggregateModelOf, type AggregateClass } from '../decorators/aggregate-registry';
import type { SubscriberModel } from '../decorators/event-subscriber';
import { EventDeserializationError } from '../event-deserialization-error';
import { buildEventMetadata } from '../event-metadata';
import { RegistrationError, describeClass } from '../registration-error';
import { deserializeStoredEvent, fromJsonObject, serializeEvent } from '../serialization';
import type { EventRunner } from '../subscriptions/event-settler';
import { attemptHandling, type DispatchOutcome } from '../subscriptions/subscriber-dispatcher';
import type { SubscriberRuntime } from '../subscriptions/subscriber-runtime';
import type { SagaDefinition } from './saga-definition';
import { SagaActionCancelled, SagaCommandFailed, SagaCompensationRequested, SagaStepRequested, type SagaCommandMessage } from './saga-events';
import { sagaReplyMetadata, type SagaReplyAddress } from './saga-metadata';
import { sagaSubscriberModel, type SagaSubscriberOptions } from './saga-subscriber-model';

export interface SagaParticipantOptions<A> extends SagaSubscriberOptions {
  /** The sagas whose commands it takes: their definitions, or their names when this process does not load them. */
  sagas: Array<SagaDefinition | string>;
  /** Options of the repository it applies commands with (its snapshots, its conflict retries). */
  repository?: AggregateRepositoryOptions<A>;
  /**
   * Which errors a @Process throws mean "refused" (answered to the saga as a failure, recorded
   * under the command's token) rather than "try again". Default: every error but the store's
   * (EventStoreError: unavailable, conflicts), registration mistakes and unreadable events.
   */
  isDomainError?: (error: unknown) => boolean;
  logger?: Logger;
}

/** Namespace of the ids of a participant's records, derived from the command they answer, so a redelivery finds them. */
const RECORD_ID_NAMESPACE = '3b1f6a52-8c4e-4d2a-9f0b-6c7d2e1a5b93';
const cancelledRecordId = (actionCommandId: string) => uuidv5(`${actionCommandId}:cancelled`, RECORD_ID_NAMESPACE);
const failedRecordId = (commandId: string) => uuidv5(`${commandId}:failed`, RECORD_ID_NAMESPACE);

const RECORD_ATTEMPTS = 10;

/**
 * The participant side of orchestrated sagas for one @Aggregate class: add it to a
 * SubscriptionManager in the participant's service. It reads the sagas' command events and applies
 * each command for its entity type to the entity, with the command id as triggering token, so a
 * redelivered command is applied once. The events it writes carry the saga's id and the command id
 * in their metadata: they are the replies. A @Process that throws a domain error is answered with a
 * SagaCommandFailed record under the command's token (a redelivery cannot succeed later); a
 * compensation that arrives before its action leaves a SagaActionCancelled tombstone under the
 * action's token (the late action is refused).
 */
export function sagaParticipant<A>(aggregateClass: AggregateClass<A>, store: EventStore, options: SagaParticipantOptions<A>): SagaParticipant<A> {
  return new SagaParticipant(aggregateClass, store, options);
}

export class SagaParticipant<A> implements SubscriberRuntime {
  readonly subscriberModel: SubscriberModel;
  readonly entityType: string;
  private readonly repository: AggregateRepository<A>;
  private readonly commandClasses = new Map<string, new () => object>();
  private readonly isDomainError: (error: unknown) => boolean;
  private logger: Logger;

  constructor(
    aggregateClass: AggregateClass<A>,
    private readonly store: EventStore,
    options: SagaParticipantOptions<A>,
  ) {
    const model = aggregateModelOf(aggregateClass);
    this.entityType = model.entityType;
    const where = `sagaParticipant(${describeClass(aggregateClass)})`;
    for (const commandClass of model.processHandlers.keys()) {
      const other = this.commandClasses.get(commandClass.name);
      if (other) throw new RegistrationError(`${where}: two command classes are named '${commandClass.name}'; sagas name commands by their class name`);
      this.commandClasses.set(commandClass.name, commandClass as new () => object);
    }
    const sagaTypes = (options?.sagas ?? []).map((saga) => (typeof saga === 'string' ? saga : saga.name));
    if (sagaTypes.length === 0) throw new RegistrationError(`${where}: say which sagas' commands it takes: { sagas: [mySaga] }`);
    this.repository = new AggregateRepository(aggregateClass, store, options.repository);
    this.isDomainError = options.isDomainError ?? isDomainErrorByDefault;
    this.subscriberModel = sagaSubscriberModel(SagaParticipant, `sagaParticipant.${this.entityType}`, [...new Set(sagaTypes)], ['SagaStepRequested', 'SagaCompensationRequested'], options);
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  }

  async open(logger: Logger): Promise<{ runner: EventRunner }> {
    this.logger = logger;
    return { runner: { dispatch: (event, signal) => this.dispatch(event, signal) } };
  }

  async closed(): Promise<void> {}

  private async dispatch(stored: StoredEvent, signal?: AbortSignal): Promise<DispatchOutcome> {
    if (stored.eventType !== 'SagaStepRequested' && stored.eventType !== 'SagaCompensationRequested') return { kind: 'skipped' };
    if (stored.eventData.participantType !== this.entityType) return { kind: 'skipped' };
    return attemptHandling(this.subscriberModel, this.logger, stored, signal, async () => {
      const message = deserializeStoredEvent(stored) as SagaStepRequested | SagaCompensationRequested;
      const address: SagaReplyAddress = { sagaType: stored.entityType, sagaId: stored.entityId, commandId: message.commandId };
      if (message instanceof SagaCompensationRequested) await this.compensate(message, address, stored);
      else if (message.creates === true) await this.create(message, address, stored);
      else await this.apply(message, address, stored);
    });
  }

  /** Applies the command once: a redelivery finds its token (on the command's events, its failure record or a tombstone). */
  private async apply(message: SagaCommandMessage, address: SagaReplyAddress, cause: StoredEvent): Promise<void> {
    const command = this.commandOf(message);
    try {
      const written = await this.repository.update(message.participantId, command, this.replyOptions(address, cause, message.commandId));
      if (written.eventIds.length === 0) {
        const reason = `${describeClass(command.constructor)} produced no events on ${this.entityType} '${message.participantId}', so the saga would hear nothing: return an event the step declares`;
        this.logger.warn({ saga: address.sagaType, sagaId: address.sagaId, step: message.step }, reason);
        await this.record(message.participantId, new SagaCommandFailed(message.commandType, 'NoReplyEvent', reason), failedRecordId(message.commandId), message.commandId, address, cause);
      }
    } catch (error) {
      if (error instanceof DuplicateTriggeringEventError) return;
      if (!this.isDomainError(error)) throw error;
      const { name, message: text } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      await this.record(message.participantId, new SagaCommandFailed(message.commandType, name, text), failedRecordId(message.commandId), message.commandId, address, cause);
    }
  }

  /**
   * Creates the entity once: the create is written under the command's id as token. A redelivery
   * finds the entity made: it then tries the failure record under the same token, which the store
   * refuses when the command was applied (or refused, or tombstoned by an early compensation); when
   * the store accepts it, the entity was made by something else, and the saga hears that the step failed.
   */
  private async create(message: SagaStepRequested, address: SagaReplyAddress, cause: StoredEvent): Promise<void> {
    const command = this.commandOf(message);
    const refuse = (name: string, text: string) =>
      this.record(message.participantId, new SagaCommandFailed(message.commandType, name, text), failedRecordId(message.commandId), message.commandId, address, cause);
    try {
      await this.repository.save(command, { entityId: message.participantId, ...this.replyOptions(address, cause, message.commandId) });
    } catch (error) {
      if (error instanceof EntityAlreadyExistsError) {
        await refuse('EntityAlreadyExistsError', `${this.entityType} '${message.participantId}' exists already, and not by this command: step '${message.step}' creates it`);
        return;
      }
      if (!this.isDomainError(error)) throw error;
      const { name, message: text } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      await refuse(name, text);
    }
  }

  /**
   * Undoes an action, or, when the action never came, takes its token with a tombstone first, so
   * that it never will. The tombstone is the compensation's reply: nothing was done, nothing is undone.
   */
  private async compensate(message: SagaCompensationRequested, address: SagaReplyAddress, cause: StoredEvent): Promise<void> {
    const actionId = message.compensates;
    if (await this.exists(cancelledRecordId(actionId))) return;
    const tombstone = new SagaActionCancelled(actionId, message.commandId);
    if (await this.record(message.participantId, tombstone, cancelledRecordId(actionId), actionId, address, cause)) return;
    // The action's token is taken: by the action (applied, or refused), or by a tombstone another delivery wrote meanwhile.
    if (await this.exists(cancelledRecordId(actionId))) return;
    if (await this.exists(failedRecordId(actionId))) {
      // The action was refused, so nothing was done: answer so, under the compensation's own token.
      await this.record(message.participantId, tombstone, cancelledRecordId(message.commandId), message.commandId, address, cause);
      return;
    }
    await this.apply(message, address, cause);
  }

  /**
   * Appends one of the participant's records under `token`; false when the token was already
   * taken. Retries conflicts with the aggregate's own writers. An entity that does not exist (one a
   * saga step creates, refused or compensated before it was made) is created with the record.
   */
  private async record(entityId: string, record: object, eventId: string, token: string, address: SagaReplyAddress, cause: StoredEvent): Promise<boolean> {
    const { eventType, eventData, schemaVersion } = serializeEvent(record);
    const metadata = buildEventMetadata(schemaVersion, { metadata: sagaReplyMetadata(address), causationId: cause.eventId, correlationId: address.sagaId });
    const events = [{ eventId, eventType, eventData, metadata }];
    for (let attempt = 1; ; attempt++) {
      try {
        const entityVersion = await this.versionOf(entityId);
        if (entityVersion === undefined) await this.store.create({ entityType: this.entityType, entityId, events, triggeringEventToken: token });
        else await this.store.append({ entityType: this.entityType, entityId, expectedVersion: entityVersion, events, triggeringEventToken: token });
        return true;
      } catch (error) {
        if (error instanceof DuplicateTriggeringEventError) return false;
        if (!(error instanceof OptimisticLockingError || error instanceof EntityAlreadyExistsError) || attempt >= RECORD_ATTEMPTS) throw error;
        await sleep(jitteredBackoffMs(attempt, { baseMs: 10, maxMs: 1000 }));
      }
    }
  }

  /** The entity's version, or undefined when it does not exist. */
  private async versionOf(entityId: string): Promise<number | undefined> {
    try {
      return (await this.store.load(this.entityType, entityId)).entityVersion;
    } catch (error) {
      if (error instanceof EntityNotFoundError) return undefined;
      throw error;
    }
  }

  private async exists(eventId: string): Promise<boolean> {
    try {
      await this.store.getEvent(eventId);
      return true;
    } catch (error) {
      if (error instanceof EventNotFoundError) return false;
      throw error;
    }
  }

  private replyOptions(address: SagaReplyAddress, cause: StoredEvent, token: string) {
    return { triggeringEventToken: token, metadata: sagaReplyMetadata(address) as JsonObject, causationId: cause.eventId, correlationId: address.sagaId };
  }

  private commandOf(message: SagaCommandMessage): object {
    const commandClass = this.commandClasses.get(message.commandType);
    if (!commandClass) {
      throw new RegistrationError(
        `saga command '${message.commandType}' (step '${message.step}') has no @Process method in ${this.entityType}'s aggregate, which takes ${[...this.commandClasses.keys()].join(', ')}: deploy the participant that knows it`,
      );
    }
    return fromJsonObject(commandClass, message.command);
  }
}

function isDomainErrorByDefault(error: unknown): boolean {
  return !(error instanceof EventStoreError || error instanceof RegistrationError || error instanceof EventDeserializationError);
}
