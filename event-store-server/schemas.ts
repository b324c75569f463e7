/**
 * JSON schemas of the HTTP API. They validate requests and document the API in /openapi.json;
 * the name rules come from src/names.ts so the server and every store agree.
 */
import { MAX_EVENTS_PER_APPEND, MAX_PAGE_SIZE } from '../src/model';
import { ENTITY_ID_PATTERN, ENTITY_TYPE_PATTERN, EVENT_TYPE_PATTERN, MAX_TOKEN_LENGTH, UUID_PATTERN } from '../src/names';

export const MAX_WAIT_MS = 30_000;
const MAX_VERSION = 2147483647;

const entityType = { type: 'string', pattern: ENTITY_TYPE_PATTERN, description: 'Entity type name' } as const;
const entityId = { type: 'string', pattern: ENTITY_ID_PATTERN, description: 'Entity id' } as const;
const eventType = { type: 'string', pattern: EVENT_TYPE_PATTERN } as const;
const version = { type: 'integer', minimum: 1, maximum: MAX_VERSION } as const;
const jsonObject = { type: 'object', additionalProperties: true } as const;
const limit = { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size, 1 to ${MAX_PAGE_SIZE} (default 100)` } as const;
/** Cursors and paging tokens are opaque; bounded so nobody sends megabytes of them. */
const opaqueToken = { type: 'string', maxLength: 1000 } as const;

const eventToAppend = {
  type: 'object',
  required: ['eventType', 'eventData'],
  properties: {
    eventId: { type: 'string', pattern: UUID_PATTERN, description: 'Caller-chosen id; a retried append with the same ids is idempotent' },
    eventType,
    eventData: jsonObject,
    metadata: jsonObject,
  },
} as const;

const events = { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_APPEND, items: eventToAppend } as const;
const triggeringEventToken = { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } as const;
const snapshotToSave = {
  type: 'object',
  required: ['snapshotType', 'snapshotData'],
  properties: { snapshotType: eventType, snapshotData: jsonObject },
} as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details; `error` is the stable code',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    error: { type: 'string' },
  },
  additionalProperties: true,
} as const;

const errorResponses = { '4xx': problem, '5xx': problem } as const;

const storedEvent = {
  type: 'object',
  properties: {
    eventId: { type: 'string' },
    entityType: { type: 'string' },
    entityId: { type: 'string' },
    entityVersion: { type: 'integer' },
    eventType: { type: 'string' },
    eventData: jsonObject,
    metadata: jsonObject,
    triggeringEventToken: { type: 'string' },
    createdAt: { type: 'string' },
    cursor: { type: 'string' },
  },
} as const;

const storedSnapshot = {
  type: 'object',
  properties: {
    snapshotType: { type: 'string' },
    snapshotData: jsonObject,
    entityVersion: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;

const appendResult = {
  type: 'object',
  properties: {
    entityType: { type: 'string' },
    entityId: { type: 'string' },
    entityVersion: { type: 'integer' },
    eventIds: { type: 'array', items: { type: 'string' } },
    cursor: {
      type: 'string',
      description: "The feed cursor of the last event written, comparable with any reader's cursor; a retried write answers with the first one's",
    },
  },
} as const;

const typeParams = { type: 'object', required: ['entityType'], properties: { entityType } } as const;
const entityParams = { type: 'object', required: ['entityType', 'entityId'], properties: { entityType, entityId } } as const;

export const createEntitySchema = {
  tags: ['entities'],
  summary: 'Create an entity with its first events',
  params: typeParams,
  body: {
    type: 'object',
    required: ['events'],
    properties: { entityId, events, triggeringEventToken, snapshot: snapshotToSave },
  },
  response: { 201: appendResult, ...errorResponses },
} as const;

export const appendEventsSchema = {
  tags: ['entities'],
  summary: 'Append events after the expected version',
  params: entityParams,
  body: {
    type: 'object',
    required: ['entityVersion', 'events'],
    properties: {
      entityVersion: { ...version, description: 'The version the writer read (expected version)' },
      events,
      triggeringEventToken,
      snapshot: snapshotToSave,
    },
  },
  response: { 200: appendResult, ...errorResponses },
} as const;

export const saveSnapshotSchema = {
  tags: ['entities'],
  summary: 'Store a snapshot of the state at a version',
  params: entityParams,
  body: {
    type: 'object',
    required: ['entityVersion', 'snapshotType', 'snapshotData'],
    properties: { entityVersion: version, snapshotType: eventType, snapshotData: jsonObject },
  },
  response: {
    201: { type: 'object', properties: { entityType: { type: 'string' }, entityId: { type: 'string' }, entityVersion: { type: 'integer' } } },
    ...errorResponses,
  },
} as const;

export const loadEntitySchema = {
  tags: ['entities'],
  summary: 'Load an entity for replay: the newest snapshot and the events after it',
  params: entityParams,
  querystring: {
    type: 'object',
    properties: {
      toVersion: { ...version, description: 'State as of this version' },
      asOf: { type: 'string', maxLength: 64, description: 'State as of this ISO-8601 instant' },
      snapshot: { type: 'boolean', description: 'false: ignore snapshots and return every event' },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        entityType: { type: 'string' },
        entityId: { type: 'string' },
        entityVersion: { type: 'integer' },
        snapshot: storedSnapshot,
        events: { type: 'array', items: storedEvent },
      },
    },
    ...errorResponses,
  },
} as const;

export const historySchema = {
  tags: ['entities'],
  summary: 'The full audit trail of an entity, oldest first, paged',
  params: entityParams,
  querystring: { type: 'object', properties: { fromVersion: version, limit } },
  response: {
    200: {
      type: 'object',
      properties: {
        entityType: { type: 'string' },
        entityId: { type: 'string' },
        entityVersion: { type: 'integer' },
        events: { type: 'array', items: storedEvent },
        snapshots: {
          type: 'array',
          description: "The snapshots stored at this page's versions (data not included: GET the entity with toVersion)",
          items: { type: 'object', properties: { entityVersion: { type: 'integer' }, snapshotType: { type: 'string' }, createdAt: { type: 'string' } } },
        },
        nextFromVersion: { type: ['integer', 'null'] },
      },
    },
    ...errorResponses,
  },
} as const;

export const listEntitiesSchema = {
  tags: ['entities'],
  summary: 'List the entities of a type, paged',
  params: typeParams,
  querystring: {
    type: 'object',
    properties: {
      after: opaqueToken,
      prefix: { type: 'string', pattern: ENTITY_ID_PATTERN, description: 'Only entities whose id starts with this (case-sensitive)' },
      limit,
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        entities: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              entityId: { type: 'string' },
              entityVersion: { type: 'integer' },
              createdAt: { type: 'string' },
              updatedAt: { type: 'string' },
            },
          },
        },
        next: { type: ['string', 'null'] },
      },
    },
    ...errorResponses,
  },
} as const;

export const getEventSchema = {
  tags: ['entities'],
  summary: 'One stored event by its id (what a triggering event token or a causation id names)',
  params: { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string', pattern: UUID_PATTERN } } },
  response: { 200: storedEvent, ...errorResponses },
} as const;

export const listTypesSchema = {
  tags: ['entities'],
  summary: 'Entity types with their entity and event counts',
  response: {
    200: {
      type: 'object',
      properties: {
        types: {
          type: 'array',
          items: {
            type: 'object',
            properties: { entityType: { type: 'string' }, entityCount: { type: 'integer' }, eventCount: { type: 'integer' } },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

const feedQuery = {
  after: { ...opaqueToken, description: 'A cursor from an earlier read; absent: from the beginning' },
  limit,
  entityTypes: { type: 'string', maxLength: 10_000, description: 'Comma-separated entity types to include' },
} as const;

export const readFeedSchema = {
  tags: ['feed'],
  summary: 'The global gap-free feed of committed events; long poll with waitMs',
  querystring: {
    type: 'object',
    properties: {
      ...feedQuery,
      waitMs: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS, description: 'When nothing is available, wait up to this long for a commit' },
    },
  },
  response: {
    200: { type: 'object', properties: { events: { type: 'array', items: storedEvent }, cursor: { type: 'string' } } },
    ...errorResponses,
  },
} as const;

export const feedEndSchema = {
  tags: ['feed'],
  summary: 'Where the feed ends now: the cursor a reader holds after reading it all; pass it as `after` to read only what commits later',
  response: {
    200: { type: 'object', required: ['cursor'], properties: { cursor: { type: 'string' } } },
    ...errorResponses,
  },
} as const;

export const streamFeedSchema = {
  tags: ['feed'],
  summary: 'The global feed as Server-Sent Events; each event id is its cursor (Last-Event-ID resumes)',
  querystring: { type: 'object', properties: feedQuery },
  produces: ['text/event-stream'],
} as const;

const plainStatus = { type: 'object', properties: { status: { type: 'string' } } } as const;

export const healthSchema = { tags: ['operations'], summary: 'Liveness', response: { 200: plainStatus } } as const;
export const readySchema = {
  tags: ['operations'],
  summary: 'Readiness: the database answers',
  response: { 200: plainStatus, 503: problem },
} as const;
export const metricsSchema = { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] } as const;
