import { EventStoreError } from '../src/errors';
import { compactJsonbBytes } from '../src/postgres/jsonb-bytes';
import { EVENT_SEPARATOR, FIELD_SEPARATOR } from '../src/postgres/packed-events';
import { writeUtcTimestampAsIso } from '../src/postgres/read-time';
import type { JsonBytes } from './json-bytes';

const EVENT_ID = Buffer.from('{"eventId":"');
const EVENT_TYPE = Buffer.from(',"eventType":');
const EVENT_DATA = Buffer.from(',"eventData":');
const METADATA = Buffer.from(',"metadata":');
const TOKEN = Buffer.from(',"triggeringEventToken":');
const CREATED_AT = Buffer.from(',"createdAt":"');
/** The most bytes an event's answer adds to its packed text (with the entity's part): the names, quotes, `,` and the time's `T`, `Z` and milliseconds. */
const OVERHEAD = EVENT_ID.length + EVENT_TYPE.length + EVENT_DATA.length + METADATA.length + TOKEN.length + CREATED_AT.length + 16;

/**
 * A load's packed events (src/postgres/packed-events.ts) as the JSON array eventJson's texts make
 * (event-json.ts: the same members in the same order), written into `out` in one pass over the
 * packed bytes: ids, versions and the event types and tokens PostgreSQL wrote as JSON are copied,
 * the data and metadata compacted (jsonb-bytes.ts), the times made Date.toISOString's text.
 * test/server/read-answers.test.ts holds the answer to the bytes of the objects through Fastify.
 */
export function writePackedEventsJson(out: JsonBytes, entityType: string, entityId: string, packedEvents: string): void {
  const src = Buffer.from(packedEvents);
  const afterId = Buffer.from(`","entityType":${JSON.stringify(entityType)},"entityId":${JSON.stringify(entityId)},"entityVersion":`);
  // About the answer's size at once, rather than growing into it (small events grow to some 1.6 times their packed text).
  out.room(src.length * 2);
  out.write('[');
  for (let start = 0; start < src.length; ) {
    let end = src.indexOf(EVENT_SEPARATOR, start);
    if (end === -1) end = src.length;
    let b = out.room(end - start + afterId.length + OVERHEAD);
    let o = out.written();
    let i = start;
    if (start > 0) b[o++] = COMMA;
    o = put(b, o, EVENT_ID);
    ({ i, o } = copyField(src, i, end, b, o));
    o = put(b, o, afterId);
    ({ i, o } = copyField(src, i, end, b, o));
    o = put(b, o, EVENT_TYPE);
    ({ i, o } = copyField(src, i, end, b, o));
    o = put(b, o, EVENT_DATA);
    i = writeJsonbField(src, i, end, out, o);
    b = out.room(end - i + OVERHEAD);
    o = put(b, out.written(), METADATA);
    i = writeJsonbField(src, i, end, out, o);
    b = out.room(end - i + OVERHEAD);
    o = out.written();
    if (src[i] !== FIELD_SEPARATOR) {
      o = put(b, o, TOKEN);
      ({ i, o } = copyField(src, i, end, b, o));
    } else {
      i++;
    }
    o = put(b, o, CREATED_AT);
    o = writeUtcTimestampAsIso(src, i, end, b, o);
    b[o++] = QUOTE;
    b[o++] = CLOSE;
    out.wrote(o);
    start = end + 1;
  }
  out.write(']');
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const CLOSE = 0x7d;

function put(b: Buffer, o: number, bytes: Buffer): number {
  b.set(bytes, o);
  return o + bytes.length;
}

/** Where the next field starts and where the copy ends: one object for every field, none allocated per field. */
const at = { i: 0, o: 0 };

/** The field from `i` copied as it is. */
function copyField(src: Buffer, i: number, end: number, b: Buffer, o: number): typeof at {
  for (; i < end; i++) {
    const c = src[i];
    if (c === FIELD_SEPARATOR) {
      at.i = i + 1;
      at.o = o;
      return at;
    }
    b[o++] = c;
  }
  throw malformed();
}

/**
 * The jsonb field from `i`, written at `o` as JSON.stringify writes its value (JSON.parse and
 * JSON.stringify write the values jsonb-bytes.ts leaves to them); `out` then ends after it. Returns
 * where the next field starts.
 */
function writeJsonbField(src: Buffer, i: number, end: number, out: JsonBytes, o: number): number {
  const fieldEnd = src.indexOf(FIELD_SEPARATOR, i);
  if (fieldEnd === -1 || fieldEnd >= end) throw malformed();
  const compacted = compactJsonbBytes(src, i, fieldEnd, out.room(0), o);
  if (compacted !== -1) {
    out.wrote(compacted);
  } else {
    out.wrote(o);
    out.write(JSON.stringify(JSON.parse(src.toString('utf8', i, fieldEnd))));
  }
  return fieldEnd + 1;
}

function malformed(): EventStoreError {
  return new EventStoreError('internal_error', "PostgreSQL packed a load's events otherwise than packed-events.ts says");
}
