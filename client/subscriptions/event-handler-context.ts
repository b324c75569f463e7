import { v5 as uuidv5 } from 'uuid';
import { DuplicateTriggeringEventError } from '../../src/errors';
import { DeliveredEvent } from './delivered-event';
import type { AggregateRepository, EntityWriteResult, SaveOptions, UpdateOptions } from '../aggregate-repository';
import { EVENT_METADATA_KEYS } from '../event-metadata';

/** A write made by a handler; `alreadyApplied` when an earlier delivery of the same event made it. */
export interface HandlerWriteResult<A> extends EntityWriteResult<A> {
  alreadyApplied: boolean;
}

/** Namespace of the entity ids `save` derives from an event, so a redelivery creates the same id. */
const SAVE_ID_NAMESPACE = '6f1c1c4e-2d0b-4f7e-9a51-3e0e4f6c2b7d';

/**
 * What a subscriber's handler gets: the event (DeliveredEvent), and writes that carry the event's
 * token as the triggering event, so a redelivered event is not applied twice (Eventuate's pattern
 * for sagas by choreography).
 */
export class EventHandlerContext<E = object> extends DeliveredEvent<E> {
  private saves = 0;

  /**
   * Creates an entity caused by this event. Without an `entityId`, the id is derived from the event
   * (and the number of saves so far in this handler), so a redelivery finds the entity it created.
   */
  async save<A>(repository: AggregateRepository<A>, command: object, options: SaveOptions = {}): Promise<HandlerWriteResult<A>> {
    this.saves++;
    const entityId = options.entityId ?? uuidv5(`${this.eventToken}:${repository.entityType}:${this.saves}`, SAVE_ID_NAMESPACE);
    try {
      const written = await repository.save(command, { ...this.causedBy(options), entityId, triggeringEventToken: this.eventToken });
      return { ...written, alreadyApplied: false };
    } catch (error) {
      if (!(error instanceof DuplicateTriggeringEventError)) throw error;
      return { ...(await repository.find(entityId)), entityType: repository.entityType, eventIds: [], alreadyApplied: true };
    }
  }

  /** Runs `command` on the entity, once per event: a redelivery finds the token and changes nothing. */
  async update<A>(repository: AggregateRepository<A>, entityId: string, command: object, options: UpdateOptions = {}): Promise<HandlerWriteResult<A>> {
    try {
      const written = await repository.update(entityId, command, { ...this.causedBy(options), triggeringEventToken: this.eventToken });
      return { ...written, alreadyApplied: false };
    } catch (error) {
      if (!(error instanceof DuplicateTriggeringEventError)) throw error;
      return { ...(await repository.find(entityId)), entityType: repository.entityType, eventIds: [], alreadyApplied: true };
    }
  }

  /** This event caused the write; the correlation id carries on from it (or starts with it). */
  private causedBy<O extends UpdateOptions>(options: O): O {
    const correlationId = this.metadata[EVENT_METADATA_KEYS.correlationId];
    return {
      ...options,
      causationId: options.causationId ?? this.eventId,
      correlationId: options.correlationId ?? (typeof correlationId === 'string' ? correlationId : this.eventId),
    };
  }
}
