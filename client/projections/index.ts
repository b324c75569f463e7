/** Projections: read models in PostgreSQL, applied exactly once, rebuilt blue-green, waited for after a write. */
export { Projection } from '../decorators/projection';
export type { ProjectionOptions } from '../decorators/projection';
export { ProjectionContext } from './projection-context';
export { PostgresProjection, postgresProjection } from './postgres-projection';
export type { PostgresProjectionOptions, ProjectionClass, WrittenPosition } from './postgres-projection';
export type { ProjectionState } from './projection-tables';
export type { OnNewEntityTypes } from './projection-entity-types';
export type { RebuildFeed, RebuildOptions, RebuildProgress, RebuildResult } from './projection-rebuild';
export { ProjectionEntityTypesError, ProjectionGapError, ProjectionRebuildError, ProjectionStoppedError, ProjectionVersionError, ProjectionWaitTimeoutError } from './projection-errors';
export { readStoredCheckpoints } from './subscriber-checkpoints';
export type { StoredCheckpoint } from './subscriber-checkpoints';
