/**
 * A load's events packed by PostgreSQL into one text, for the server, which writes them into its
 * answer as bytes (event-store-server/packed-events-json.ts): node-postgres then makes one string
 * for the whole load instead of six per event, which cost more than all the rest of the answer.
 *
 * Events are separated by EVENT_SEPARATOR, and an event's fields by FIELD_SEPARATOR, in the order
 * the answer writes them: event id, entity version, event type as JSON (to_json: escaped as
 * JSON.stringify escapes), event data and metadata (jsonb's text), the triggering event token as
 * JSON or nothing, and the time as the reads select it (read-time.ts). No field can hold either
 * separator: JSON escapes every control character, and the rest are a UUID, digits and a time.
 */
export const EVENT_SEPARATOR = 0x1e;
export const FIELD_SEPARATOR = 0x1f;

/** The packed text of the events selected `FROM ... WHERE ...` (null for none), oldest first. */
export const PACKED_EVENTS = `string_agg(concat_ws(E'\\x1f', event_id, entity_version, to_json(event_type), event_data, metadata,
    coalesce(to_json(triggering_event)::text, ''), created_at AT TIME ZONE 'UTC'), E'\\x1e' ORDER BY entity_version)`;
