import { ValidationError } from './errors';
import {
  AppendEventsRequest,
  CreateEntityRequest,
  DEFAULT_PAGE_SIZE,
  EventToAppend,
  MAX_EVENTS_PER_APPEND,
  MAX_PAGE_SIZE,
  SnapshotToSave,
} from './model';
import { entityIdRegex, entityTypeRegex, eventTypeRegex, MAX_TOKEN_LENGTH, uuidRegex } from './names';

/**
 * Checks every store runs before touching storage, so an in-process caller gets the same
 * ValidationError the HTTP API answers with. The server's JSON schemas say the same, earlier.
 */
export function checkEntityType(entityType: unknown): asserts entityType is string {
  if (typeof entityType !== 'string' || !entityTypeRegex.test(entityType)) {
    throw new ValidationError(`entityType must match ${entityTypeRegex.source}`, { field: 'entityType' });
  }
}

export function checkEntityId(entityId: unknown): asserts entityId is string {
  if (typeof entityId !== 'string' || !entityIdRegex.test(entityId)) {
    throw new ValidationError(`entityId must match ${entityIdRegex.source}`, { field: 'entityId' });
  }
}

/** A prefix of entity ids, for listing: one or more characters an id may hold. */
export function checkEntityIdPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || !entityIdRegex.test(prefix)) {
    throw new ValidationError(`prefix must be the start of an entity id, matching ${entityIdRegex.source}`, { field: 'prefix' });
  }
}

export function checkEventId(eventId: unknown): asserts eventId is string {
  if (typeof eventId !== 'string' || !uuidRegex.test(eventId)) {
    throw new ValidationError('eventId must be a UUID', { field: 'eventId' });
  }
}

export function checkVersion(value: unknown, field: string, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > 2147483647) {
    throw new ValidationError(`${field} must be an integer from ${min} to 2147483647`, { field });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkEvents(events: unknown): asserts events is EventToAppend[] {
  if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS_PER_APPEND) {
    throw new ValidationError(`events must hold 1 to ${MAX_EVENTS_PER_APPEND} events`, { field: 'events' });
  }
  const seen = new Set<string>();
  events.forEach((event, i) => {
    const field = `events[${i}]`;
    if (!isPlainObject(event)) throw new ValidationError(`${field} must be an object`, { field });
    if (event.eventId !== undefined) {
      if (typeof event.eventId !== 'string' || !uuidRegex.test(event.eventId)) {
        throw new ValidationError(`${field}.eventId must be a UUID`, { field: `${field}.eventId` });
      }
      const id = event.eventId.toLowerCase();
      if (seen.has(id)) throw new ValidationError(`${field}.eventId repeats an earlier event's id`, { field: `${field}.eventId` });
      seen.add(id);
    }
    if (typeof event.eventType !== 'string' || !eventTypeRegex.test(event.eventType)) {
      throw new ValidationError(`${field}.eventType must match ${eventTypeRegex.source}`, { field: `${field}.eventType` });
    }
    if (!isPlainObject(event.eventData)) throw new ValidationError(`${field}.eventData must be an object`, { field: `${field}.eventData` });
    if (event.metadata !== undefined && !isPlainObject(event.metadata)) {
      throw new ValidationError(`${field}.metadata must be an object`, { field: `${field}.metadata` });
    }
  });
}

function checkToken(token: unknown): void {
  if (token !== undefined && (typeof token !== 'string' || token.length < 1 || token.length > MAX_TOKEN_LENGTH)) {
    throw new ValidationError(`triggeringEventToken must be a string of 1 to ${MAX_TOKEN_LENGTH} characters`, {
      field: 'triggeringEventToken',
    });
  }
}

export function checkSnapshot(snapshot: unknown): asserts snapshot is SnapshotToSave {
  if (!isPlainObject(snapshot)) throw new ValidationError('snapshot must be an object', { field: 'snapshot' });
  if (typeof snapshot.snapshotType !== 'string' || !eventTypeRegex.test(snapshot.snapshotType)) {
    throw new ValidationError(`snapshotType must match ${eventTypeRegex.source}`, { field: 'snapshotType' });
  }
  if (!isPlainObject(snapshot.snapshotData)) throw new ValidationError('snapshotData must be an object', { field: 'snapshotData' });
}

export function checkCreateRequest(request: CreateEntityRequest): void {
  checkEntityType(request.entityType);
  if (request.entityId !== undefined) checkEntityId(request.entityId);
  checkEvents(request.events);
  checkToken(request.triggeringEventToken);
  if (request.snapshot !== undefined) checkSnapshot(request.snapshot);
}

export function checkAppendRequest(request: AppendEventsRequest): void {
  checkEntityType(request.entityType);
  checkEntityId(request.entityId);
  checkVersion(request.expectedVersion, 'entityVersion', 1);
  checkEvents(request.events);
  checkToken(request.triggeringEventToken);
  if (request.snapshot !== undefined) checkSnapshot(request.snapshot);
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, { field: 'limit' });
  }
  return limit;
}
