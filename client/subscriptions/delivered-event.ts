import type { JsonObject, StoredEvent } from '../../src/model';

/** An event as a handler sees it: an instance of its class (upcast), and where it came from. */
export class DeliveredEvent<E = object> {
  readonly eventId: string;
  readonly eventType: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly entityVersion: number;
  /** Identifies this event as the cause of a write; the store refuses the same token twice per entity. */
  readonly eventToken: string;
  readonly metadata: JsonObject;
  readonly createdAt: string;
  /** The event's place in the global feed, when the source knows it. */
  readonly cursor?: string;

  constructor(
    readonly event: E,
    stored: StoredEvent,
  ) {
    this.eventId = stored.eventId;
    this.eventType = stored.eventType;
    this.entityType = stored.entityType;
    this.entityId = stored.entityId;
    this.entityVersion = stored.entityVersion;
    this.eventToken = stored.eventId;
    this.metadata = stored.metadata;
    this.createdAt = stored.createdAt;
    this.cursor = stored.cursor;
  }
}
