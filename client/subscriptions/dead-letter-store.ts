import type { StoredEvent } from '../../src/model';

/** Where a delivery came from: enough to find the message again and to know which consumer owns it. */
export type DeliveryOrigin = { source: 'kafka'; topic: string; partition: number; offset: string } | { source: 'feed'; cursor?: string };

/**
 * 'failed': its handler failed after its last attempt (or it is not an event at all).
 * 'parked': not tried; it waits behind an earlier failed event of the same entity.
 */
export type DeadLetterState = 'failed' | 'parked';

export interface DeadLetter {
  subscriberId: string;
  /** The event id; for a message that is not an event, `<topic>/<partition>@<offset>`. */
  id: string;
  /** `<entityType>/<entityId>`: the entity whose later events wait behind it when it parks its entity. */
  entityKey: string;
  /** The event's entity version; absent for a message that is not an event. */
  entityVersion?: number;
  state: DeadLetterState;
  /** Recorded under the 'park' policy: the entity's later events wait behind this letter. */
  parksEntity: boolean;
  /** The event, when the message was one. */
  event?: StoredEvent;
  /** The text of a message that is not an event. */
  unreadable?: string;
  origin: DeliveryOrigin;
  /** The last attempt's error (failed letters). */
  error?: string;
  /** Handler attempts so far, retries included (0 for a parked letter). */
  attempts: number;
  /** ISO-8601: when it was dead-lettered or parked. */
  recordedAt: string;
  /** ISO-8601: the last failed attempt (failed letters). */
  failedAt?: string;
  /** ISO-8601: a retry asked for (by code or the CLI) and not yet taken by the running subscriber. */
  retryRequestedAt?: string;
  /** Order of recording: parked letters of an entity are released in this order. */
  sequence: number;
}

export type NewDeadLetter = Omit<DeadLetter, 'sequence' | 'recordedAt' | 'retryRequestedAt'>;

export interface DeadLetterFilter {
  entityKey?: string;
  parksEntity?: boolean;
  limit?: number;
}

export interface DeadLetterCounts {
  failed: number;
  parked: number;
  /** Entities whose later events wait behind a dead letter. */
  parkedEntities: number;
}

/**
 * Where subscribers keep the events their handlers gave up on, and the events parked behind them.
 * One store serves both sources and every subscriber (rows are per subscriber id); the running
 * subscriber writes it, and people read and change it from code or the CLI in another process.
 * `postgresDeadLetters({ connectionString })` is durable; `memoryDeadLetters()` is for tests.
 * A write that throws is retried by the subscriber, then halts it: never an event skipped.
 */
export interface DeadLetterStore {
  /** Records a letter; false (and nothing changed) when one with this id was recorded already: a redelivery. */
  record(letter: NewDeadLetter): Promise<boolean>;
  find(subscriberId: string, id: string): Promise<DeadLetter | undefined>;
  /** Oldest first (by sequence); `entityKey` and `parksEntity` narrow it. */
  list(subscriberId: string, options?: DeadLetterFilter): Promise<DeadLetter[]>;
  /** Entity keys with a letter that parks its entity. */
  parkedEntities(subscriberId: string): Promise<string[]>;
  /**
   * What the running subscriber must act on, oldest first: failed letters with a retry requested,
   * and parked letters first in their entity's queue (the failed one before them was discarded).
   */
  pending(subscriberId: string): Promise<DeadLetter[]>;
  counts(subscriberId: string): Promise<DeadLetterCounts>;
  /** Asks for a retry of these failed letters that hold events (parked ones and messages that are not events are left alone); returns the ids marked. */
  requestRetry(subscriberId: string, ids: string[] | 'all'): Promise<string[]>;
  /** Takes a requested retry, atomically: true for exactly one caller per request. */
  claimRetry(subscriberId: string, id: string): Promise<boolean>;
  /** A retry (or the first attempt of a parked letter) failed: it becomes, or stays, a failed letter. */
  recordFailure(subscriberId: string, id: string, failure: { error: string; attempts: number; at: string }): Promise<void>;
  /** Deletes a letter (handled on retry, or discarded); false when there was none. */
  remove(subscriberId: string, id: string): Promise<boolean>;
  close?(): Promise<void>;
}
