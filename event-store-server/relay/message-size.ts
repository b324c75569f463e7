import { EventStoreError } from '../../src/errors';
import type { EventToAppend } from '../../src/model';
import type { EventWithData } from '../../src/stored-event-text';
import { toKafkaMessage, type KafkaMessage } from './kafka-message';

/**
 * What Kafka adds around one message in a record batch of its own, rounded up: the batch header
 * (61 bytes), the record's length, attributes, timestamp and offset deltas and field lengths (at
 * most 36), and two length-prefixed headers (at most 20). A size that includes it is an upper bound
 * of the record batch a broker compares with its `message.max.bytes`.
 */
export const KAFKA_FRAMING_BYTES = 128;

/** The default largest message the relay sends: Kafka's own default limit (1048588 bytes), with room to spare. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;

/**
 * A publisher's refusal of one event, thrown only after every event before it in the batch was
 * acknowledged: its message is over the configured limit (limitBytes), or the broker refused it.
 */
export class MessageTooLargeError extends Error {
  constructor(
    readonly event: EventWithData,
    readonly messageBytes: number,
    /** The configured limit it exceeds; undefined when the broker refused it under its own. */
    readonly limitBytes: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `event ${event.eventId} is a Kafka message of ${messageBytes} bytes, ` +
        (limitBytes === undefined ? 'refused by the broker as too large' : `over the limit of ${limitBytes} bytes`),
      options,
    );
    this.name = 'MessageTooLargeError';
  }
}

/** Bytes `message` takes on the broker, framing included (see KAFKA_FRAMING_BYTES). */
export function kafkaMessageBytes(message: KafkaMessage): number {
  let bytes = KAFKA_FRAMING_BYTES + Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

export function storedEventMessageBytes(event: EventWithData): number {
  return kafkaMessageBytes(toKafkaMessage(event));
}

// The fields an append does not fix, in their longest form, so the estimate is never below the message
// the relay will send: an id like a UUID, a timestamp (always 24 characters), the largest version,
// and room for a cursor (55 characters today).
const LONGEST_ID = '00000000-0000-0000-0000-000000000000';
const CREATED_AT = '2000-01-01T00:00:00.000Z';
const LARGEST_VERSION = 2_147_483_647;
const CURSOR_ALLOWANCE = 'c'.repeat(128);

/** At least the size of the message `event` becomes once appended to `entityType` `entityId` (absent: a generated id). */
export function appendedEventMessageBytes(entityType: string, entityId: string | undefined, event: EventToAppend): number {
  return storedEventMessageBytes({
    eventId: event.eventId ?? LONGEST_ID,
    entityType,
    entityId: entityId ?? LONGEST_ID,
    entityVersion: LARGEST_VERSION,
    eventType: event.eventType,
    eventData: event.eventData,
    metadata: event.metadata ?? {},
    createdAt: CREATED_AT,
    cursor: CURSOR_ALLOWANCE,
  });
}

/**
 * Refuses (413 payload_too_large) an append with an event the relay could not publish: one whose
 * Kafka message would be larger than `maxBytes`. Stored, it would stop the relay (see README).
 */
export function checkEventsFitKafka(entityType: string, entityId: string | undefined, events: readonly EventToAppend[], maxBytes: number): void {
  events.forEach((event, index) => {
    const bytes = appendedEventMessageBytes(entityType, entityId, event);
    if (bytes <= maxBytes) return;
    throw new EventStoreError(
      'payload_too_large',
      `events[${index}] (${event.eventType}) would be a Kafka message of ${bytes} bytes, over the relay's limit of ${maxBytes} bytes ` +
        '(EVENTUATE_RELAY_MAX_MESSAGE_BYTES, which must not exceed the broker\'s message.max.bytes): make the event smaller, e.g. store large data elsewhere and keep a reference',
      { index, messageBytes: bytes, limitBytes: maxBytes },
    );
  });
}
