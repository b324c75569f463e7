/** The stable error codes of the HTTP API; every store failure carries one. */
export type ErrorCode =
  | 'validation_error'
  | 'unauthorized'
  | 'entity_not_found'
  | 'event_not_found'
  | 'entity_exists'
  | 'optimistic_lock_error'
  | 'duplicate_event'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'service_unavailable'
  | 'invalid_cursor'
  | 'too_many_requests'
  | 'internal_error';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  entity_not_found: 404,
  event_not_found: 404,
  entity_exists: 409,
  optimistic_lock_error: 409,
  duplicate_event: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  service_unavailable: 503,
  invalid_cursor: 400,
  too_many_requests: 429,
  internal_error: 500,
};

export class EventStoreError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra members of the problem+json body (e.g. expectedVersion). */
    readonly details: Record<string, unknown> = {},
    /** `cause`: what went wrong underneath, for logs; never sent to HTTP callers. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export class ValidationError extends EventStoreError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('validation_error', message, details);
  }
}

export class EntityNotFoundError extends EventStoreError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
  ) {
    super('entity_not_found', `${entityType} ${entityId} does not exist`, { entityType, entityId });
  }
}

export class EventNotFoundError extends EventStoreError {
  constructor(readonly eventId: string) {
    super('event_not_found', `no event has the id ${eventId}`, { eventId });
  }
}

export class EntityAlreadyExistsError extends EventStoreError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
  ) {
    super('entity_exists', `${entityType} ${entityId} already exists`, { entityType, entityId });
  }
}

export class OptimisticLockingError extends EventStoreError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
    message = `${entityType} ${entityId} is at version ${actualVersion}, not the expected ${expectedVersion}`,
  ) {
    super('optimistic_lock_error', message, { entityType, entityId, expectedVersion, actualVersion });
  }
}

export class DuplicateTriggeringEventError extends EventStoreError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly triggeringEventToken: string,
    /** The entity's current version. */
    readonly entityVersion: number,
  ) {
    super('duplicate_event', `${entityType} ${entityId} already applied triggering event ${triggeringEventToken}`, {
      entityType,
      entityId,
      triggeringEventToken,
      entityVersion,
    });
  }
}

export class UnauthorizedError extends EventStoreError {
  constructor(message = 'a valid API key is required: Authorization: Bearer <key>') {
    super('unauthorized', message);
  }
}

/**
 * The message is shown to HTTP callers, who may not be authenticated: it says what is unavailable,
 * never where it lives. The driver's error (with host and port) goes into `cause`, for the logs.
 */
export class ServiceUnavailableError extends EventStoreError {
  constructor(message = 'the event store database is unavailable', details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('service_unavailable', message, details, options);
  }
}

/**
 * The connection broke while a write was being committed: it may or may not be stored, and the
 * store cannot tell. Retrying with the same event ids is safe (a write already stored answers with
 * its first result); a write whose event ids the store chose should reload the entity first.
 */
export class WriteOutcomeUnknownError extends ServiceUnavailableError {
  constructor(options?: ErrorOptions) {
    super(
      'the connection to the event store database broke while this write was being committed: it may or may not be stored. ' +
        'Retrying with the same event ids is safe (a stored write answers with its first result); ' +
        'if the store chose the event ids, load the entity before retrying',
      {},
      options,
    );
  }
}

/** A feed cursor that is malformed, issued by another store, or pointing past this store's present. */
export class InvalidCursorError extends EventStoreError {
  constructor(message: string) {
    super('invalid_cursor', message);
  }
}

/** A limit of open feed readers is reached; the HTTP answer carries `Retry-After: retryAfterSeconds`. */
export class TooManyRequestsError extends EventStoreError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', message, { retryAfterSeconds });
  }
}
