import {
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  OptimisticLockingError,
} from './errors';
import type { AppendResult, EventToAppend } from './model';

/** Where an event id of a refused append is already stored. */
export interface ExistingEvent {
  eventId: string;
  entityType: string;
  entityId: string;
  entityVersion: number;
  /** Its feed cursor: a retried batch answers with its last event's. */
  cursor: string;
}

export interface RefusedWrite {
  entityType: string;
  entityId: string;
  /** 0 for a create. */
  expectedVersion: number;
  events: EventToAppend[];
  triggeringEventToken?: string;
  /** The entity's version now, undefined if it does not exist. */
  actualVersion: number | undefined;
  /** Events already stored under the ids the request carries. */
  existing: ExistingEvent[];
  tokenSeen: boolean;
}

/**
 * Decides what a create or append that wrote nothing means, the same way in every store:
 * a retry of a batch that did commit returns that batch's result; otherwise the documented error.
 */
export function resolveRefusedWrite(write: RefusedWrite): AppendResult {
  const { entityType, entityId, expectedVersion, actualVersion } = write;
  const retried = sameBatch(write);
  if (retried) return retried;
  if (write.tokenSeen && actualVersion !== undefined) {
    throw new DuplicateTriggeringEventError(entityType, entityId, write.triggeringEventToken!, actualVersion);
  }
  if (write.existing.length > 0) {
    throw new OptimisticLockingError(
      entityType,
      entityId,
      expectedVersion,
      actualVersion ?? 0,
      `event id ${write.existing[0].eventId} was already written by another append`,
    );
  }
  if (expectedVersion === 0) throw new EntityAlreadyExistsError(entityType, entityId);
  if (actualVersion === undefined) throw new EntityNotFoundError(entityType, entityId);
  throw new OptimisticLockingError(entityType, entityId, expectedVersion, actualVersion);
}

function sameBatch(write: RefusedWrite): AppendResult | undefined {
  const ids = write.events.map((e) => e.eventId?.toLowerCase());
  if (ids.some((id) => id === undefined) || write.existing.length !== ids.length) return undefined;
  const byId = new Map(write.existing.map((e) => [e.eventId.toLowerCase(), e]));
  const matches = ids.every((id, i) => {
    const stored = byId.get(id!);
    return (
      stored !== undefined &&
      stored.entityType === write.entityType &&
      stored.entityId === write.entityId &&
      stored.entityVersion === write.expectedVersion + i + 1
    );
  });
  if (!matches) return undefined;
  return {
    entityType: write.entityType,
    entityId: write.entityId,
    entityVersion: write.expectedVersion + ids.length,
    eventIds: ids as string[],
    // One batch is one transaction, its events' positions in version order: the last event is the batch's last in the feed.
    cursor: byId.get(ids.at(-1)!)!.cursor,
  };
}
