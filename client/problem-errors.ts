import {
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  ErrorCode,
  EventNotFoundError,
  EventStoreError,
  InvalidCursorError,
  OptimisticLockingError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../src/errors';

/** A problem+json body as the server sends it. */
export interface ProblemBody {
  error?: string;
  detail?: string;
  title?: string;
  [member: string]: unknown;
}

/** Turns the server's problem+json answer back into the error class an in-process store would throw. */
export function errorFromProblem(status: number, body: ProblemBody, entity: { entityType?: string; entityId?: string } = {}): EventStoreError {
  const detail = body.detail ?? body.title ?? `HTTP ${status}`;
  const entityType = (body.entityType as string) ?? entity.entityType ?? '';
  const entityId = (body.entityId as string) ?? entity.entityId ?? '';
  const { error: _code, detail: _detail, title: _title, type: _type, status: _status, ...details } = body;
  switch (body.error) {
    case 'validation_error':
      return new ValidationError(detail, details);
    case 'entity_not_found':
      return new EntityNotFoundError(entityType, entityId);
    case 'event_not_found':
      return new EventNotFoundError(String(body.eventId ?? ''));
    case 'entity_exists':
      return new EntityAlreadyExistsError(entityType, entityId);
    case 'optimistic_lock_error':
      return new OptimisticLockingError(entityType, entityId, Number(body.expectedVersion), Number(body.actualVersion), detail);
    case 'duplicate_event':
      return new DuplicateTriggeringEventError(entityType, entityId, String(body.triggeringEventToken ?? ''), Number(body.entityVersion));
    case 'unauthorized':
      return new UnauthorizedError(detail);
    case 'service_unavailable':
      return new ServiceUnavailableError(detail);
    case 'invalid_cursor':
      return new InvalidCursorError(detail);
    case 'too_many_requests':
      return new TooManyRequestsError(detail, Number(body.retryAfterSeconds));
  }
  const code = (typeof body.error === 'string' ? body.error : status >= 500 ? 'internal_error' : 'validation_error') as ErrorCode;
  return new EventStoreError(code, detail, details);
}
