import { v4 as uuidv4 } from 'uuid';
import { decodeCursor } from '../src/cursor';
import { EventStoreError, ServiceUnavailableError, ValidationError } from '../src/errors';
import type { EventStore } from '../src/event-store';
import type {
  AppendEventsRequest,
  AppendResult,
  CreateEntityRequest,
  EntityPage,
  EntityTypeSummary,
  EventToAppend,
  FeedEnd,
  FeedOptions,
  FeedPage,
  HistoryOptions,
  HistoryPage,
  ListEntitiesOptions,
  LoadedEntity,
  LoadOptions,
  SnapshotToSave,
  StoredEvent,
} from '../src/model';
import { checkEntityId, checkEntityType, checkEventId } from '../src/validation';
import { errorFromProblem, ProblemBody } from './problem-errors';
import { jitteredBackoffMs, sleep } from '../src/backoff';
import { newEventId } from '../src/event-id';

export interface HttpEventStoreOptions {
  /** The server's base URL, e.g. http://localhost:8080 */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Further attempts after a 503 or a network error; default 4. */
  retries?: number;
  /** Per request; default 30 s (a long poll gets its wait on top). */
  timeoutMs?: number;
}

/**
 * The EventStore of a remote server. Connections are kept alive (Node's fetch pools them).
 * Writes carry event ids (and a create its entity id) chosen here before the first attempt,
 * so retrying after a 503 or a dropped connection can never write twice.
 */
export class HttpEventStore implements EventStore {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly retries: number;
  private readonly timeoutMs: number;

  constructor(options: HttpEventStoreOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.headers = { accept: 'application/json' };
    if (options.apiKey !== undefined && /\s/.test(options.apiKey)) {
      // The server refuses such a header; a key read from a file with its newline is the usual cause.
      throw new TypeError('HttpEventStore: apiKey contains whitespace; API keys never do (was it read with a trailing newline?)');
    }
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
    this.retries = options.retries ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async create(request: CreateEntityRequest): Promise<AppendResult> {
    checkEntityType(request.entityType);
    if (request.entityId !== undefined) checkEntityId(request.entityId);
    const entityId = request.entityId ?? uuidv4();
    const body = {
      entityId,
      events: withIds(request.events),
      triggeringEventToken: request.triggeringEventToken,
      snapshot: request.snapshot,
    };
    return this.written(await this.send('POST', `/entity/${enc(request.entityType)}`, { body, entity: { entityType: request.entityType, entityId } }));
  }

  async append(request: AppendEventsRequest): Promise<AppendResult> {
    const path = entityPath(request.entityType, request.entityId);
    const body = {
      entityVersion: request.expectedVersion,
      events: withIds(request.events),
      triggeringEventToken: request.triggeringEventToken,
      snapshot: request.snapshot,
    };
    return this.written(await this.send('POST', path, { body, entity: request }));
  }

  /**
   * A write's answer, which must carry its cursor: read-your-writes compares it with a reader's, and
   * one taken as "the start of the feed" would pass at once. A server of a version before cursors is
   * named rather than its answer passed on without one.
   */
  private written(result: AppendResult): AppendResult {
    if (typeof result.cursor === 'string' && result.cursor !== '') return result;
    throw new EventStoreError(
      'internal_error',
      `${this.base} answered the write (${result.entityType} ${result.entityId}, version ${result.entityVersion}) without its feed ` +
        `cursor: the server is of an earlier version. The write was made; upgrade the server to get cursors`,
    );
  }

  async load(entityType: string, entityId: string, options: LoadOptions = {}): Promise<LoadedEntity> {
    const query = {
      toVersion: options.toVersion,
      asOf: options.asOf?.toISOString(),
      snapshot: options.useSnapshot === false ? 'false' : undefined,
    };
    return this.send('GET', entityPath(entityType, entityId), { query, entity: { entityType, entityId } });
  }

  async getEvent(eventId: string): Promise<StoredEvent> {
    checkEventId(eventId);
    return this.send('GET', `/events/${enc(eventId)}`, {});
  }

  async history(entityType: string, entityId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const query = { fromVersion: options.fromVersion, limit: options.limit };
    return this.send('GET', `${entityPath(entityType, entityId)}/history`, { query, entity: { entityType, entityId } });
  }

  async saveSnapshot(entityType: string, entityId: string, entityVersion: number, snapshot: SnapshotToSave): Promise<void> {
    const body = { entityVersion, snapshotType: snapshot.snapshotType, snapshotData: snapshot.snapshotData };
    await this.send('POST', `${entityPath(entityType, entityId)}/snapshots`, { body, entity: { entityType, entityId } });
  }

  async listEntities(entityType: string, options: ListEntitiesOptions = {}): Promise<EntityPage> {
    checkEntityType(entityType);
    return this.send('GET', `/entity/${enc(entityType)}`, { query: { after: options.after, prefix: options.prefix, limit: options.limit } });
  }

  async listEntityTypes(): Promise<EntityTypeSummary[]> {
    return (await this.send<{ types: EntityTypeSummary[] }>('GET', '/types', {})).types;
  }

  async readFeed(options: FeedOptions = {}): Promise<FeedPage> {
    // Checked for form here (an InvalidCursorError without a round trip); which store issued it is the server's question.
    decodeCursor(options.after);
    const query = {
      after: options.after || undefined,
      limit: options.limit,
      entityTypes: options.entityTypes?.length ? options.entityTypes.join(',') : undefined,
      waitMs: options.waitMs,
    };
    try {
      return await this.send('GET', '/events', { query, signal: options.signal, extraTimeoutMs: options.waitMs });
    } catch (err) {
      // An aborted long poll is a normal end: nothing read.
      if (options.signal?.aborted) return { events: [], cursor: options.after ?? '' };
      throw err;
    }
  }

  async readFeedEnd(): Promise<FeedEnd> {
    try {
      return await this.send('GET', '/events/end', {});
    } catch (err) {
      // A server of a version before this route takes "end" for an event id, and refuses it as one.
      if (err instanceof ValidationError && String(err.details.field ?? '').endsWith('eventId')) {
        throw new EventStoreError(
          'internal_error',
          `${this.base} has no GET /events/end: the server is of an earlier version. Upgrade it, or read the feed to its end`,
        );
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    // Nothing to release: the pooled connections close themselves when idle.
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    request: {
      body?: unknown;
      query?: Record<string, string | number | undefined>;
      entity?: { entityType?: string; entityId?: string };
      signal?: AbortSignal;
      extraTimeoutMs?: number;
    },
  ): Promise<T> {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers = request.body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' };
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs + (request.extraTimeoutMs ?? 0));
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let failure: EventStoreError;
      try {
        const response = await fetch(url, { method, headers, body, signal });
        const text = await response.text();
        const parsed = text ? JSON.parse(text) : {};
        if (response.ok) return parsed as T;
        failure = errorFromProblem(response.status, parsed as ProblemBody, request.entity);
        if (!(failure instanceof ServiceUnavailableError)) throw failure;
      } catch (err) {
        if (err instanceof EventStoreError && !(err instanceof ServiceUnavailableError)) throw err;
        if (request.signal?.aborted) throw err;
        failure = err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError(`cannot reach ${this.base}: ${causeOf(err)}`);
      }
      if (attempt >= this.retries) throw failure;
      await sleep(jitteredBackoffMs(attempt + 1, { baseMs: 100, maxMs: 2000 }));
    }
  }
}

function withIds(events: EventToAppend[]): EventToAppend[] {
  return events.map((e) => (e.eventId ? e : { ...e, eventId: newEventId() }));
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/**
 * Checked here, before any request: an id such as `..` would be rewritten by URL normalisation into
 * another path, and the request would reach a different resource instead of failing.
 */
function entityPath(entityType: string, entityId: string): string {
  checkEntityType(entityType);
  checkEntityId(entityId);
  return `/entity/${enc(entityType)}/${enc(entityId)}`;
}

function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
