import type { JsonObject } from '../src/model';

/** Keys the repository writes into every event's metadata. Caller metadata cannot override them. */
export const EVENT_METADATA_KEYS = {
  /** The schema version of the event class that wrote the event (a positive integer). */
  schemaVersion: 'schemaVersion',
  /** Ties together every event caused, directly or not, by one request. */
  correlationId: 'correlationId',
  /** The id of the message or event that directly caused this one. */
  causationId: 'causationId',
} as const;

export interface EventMetadataOptions {
  metadata?: JsonObject;
  correlationId?: string;
  causationId?: string;
}

export function buildEventMetadata(schemaVersion: number, options: EventMetadataOptions): JsonObject {
  const metadata: JsonObject = { ...options.metadata };
  if (options.correlationId !== undefined) metadata[EVENT_METADATA_KEYS.correlationId] = options.correlationId;
  if (options.causationId !== undefined) metadata[EVENT_METADATA_KEYS.causationId] = options.causationId;
  metadata[EVENT_METADATA_KEYS.schemaVersion] = schemaVersion;
  return metadata;
}

/** The schema version an event was written with; events written without one are version 1. */
export function schemaVersionOf(metadata: JsonObject | undefined): number {
  const version = metadata?.[EVENT_METADATA_KEYS.schemaVersion];
  return typeof version === 'number' && Number.isInteger(version) && version >= 1 ? version : 1;
}
