/** An entity's event arrived after a version the projection never saw: applying it would make its rows wrong. */
export class ProjectionGapError extends Error {
  constructor(projection: string, entity: string, version: number, applied: number) {
    super(
      `projection '${projection}': event version ${version} of ${entity} arrived, but the projection has applied its events only up to version ${applied}; ` +
        'the events in between never reached it (a Kafka topic whose retention dropped them, a source started in the middle of the history). ' +
        `Rebuild it from the feed: eventuate-local projections rebuild ${projection}`,
    );
    this.name = 'ProjectionGapError';
  }
}

/** The projection's tables were built by another version of its code. */
export class ProjectionVersionError extends Error {
  constructor(projection: string, schema: string, built: number, declared: number) {
    super(
      `projection '${projection}': the tables in schema ${schema} were built by version ${built}, the code is version ${declared}. ` +
        `Rebuild them (eventuate-local projections rebuild ${projection}, or rebuild() from code; the old tables serve until the new ones are ready), ` +
        'or start with rebuildOnVersionChange: true to do that at start.',
    );
    this.name = 'ProjectionVersionError';
  }
}

/** waitFor gave up: the projection had not applied the write within the time. */
export class ProjectionWaitTimeoutError extends Error {
  constructor(
    projection: string,
    what: string,
    timeoutMs: number,
    reached: string,
    override readonly cause?: Error,
  ) {
    super(`projection '${projection}' had not applied ${what} after ${timeoutMs} ms (it has applied ${reached})${cause ? `; it stopped: ${cause.message}` : ''}`);
    this.name = 'ProjectionWaitTimeoutError';
  }
}

/** A rebuild stopped before it could switch over; the old tables still serve. */
export class ProjectionRebuildError extends Error {
  constructor(
    projection: string,
    detail: string,
    override readonly cause?: Error,
  ) {
    super(`projection '${projection}': rebuild stopped, the tables in use are unchanged: ${detail}`);
    this.name = 'ProjectionRebuildError';
  }
}

/** waitFor gave up at once: the projection stopped in this process, so it will not apply the write until restarted. */
export class ProjectionStoppedError extends Error {
  constructor(
    projection: string,
    what: string,
    reached: string,
    override readonly cause: Error,
  ) {
    super(`projection '${projection}' stopped before it applied ${what} (it has applied ${reached}): ${cause.message}`);
    this.name = 'ProjectionStoppedError';
  }
}

/**
 * The projection now reads entity types its tables were not built from, and it has read the feed
 * past their earlier events: resuming from its checkpoint would leave those events out for good.
 */
export class ProjectionEntityTypesError extends Error {
  constructor(
    readonly projection: string,
    readonly added: string[],
  ) {
    super(
      `projection '${projection}' now reads entity types ${added.join(', ')}, which its tables were not built from, and its checkpoint is past their earlier events: ` +
        'resumed from it, the view would lack those events. ' +
        `Rebuild it (eventuate-local projections rebuild ${projection} --module <your module>, or projection.rebuild() from code; the old tables serve until the new ones are ready), ` +
        "or start it with postgresProjection(..., { onNewEntityTypes: 'rebuild' }) to do that at start.",
    );
    this.name = 'ProjectionEntityTypesError';
  }
}
