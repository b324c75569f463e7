/** The name rules of the HTTP API, shared by every store and by the server's JSON schemas. */
export const ENTITY_TYPE_PATTERN = '^[A-Za-z_$][A-Za-z0-9_.$-]{0,199}$';
export const EVENT_TYPE_PATTERN = ENTITY_TYPE_PATTERN;
/**
 * `.` and `..` are excluded although their characters are allowed: as a URL path segment they mean
 * "this" and "the parent" and every URL library normalises them away, so such an entity could be
 * written but never reached again through `/entity/:entityType/:entityId`.
 */
export const ENTITY_ID_PATTERN = '^(?!\\.\\.?$)[A-Za-z0-9_.:@-]{1,200}$';
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** Triggering event tokens are opaque to the store; bounded so they stay indexable. */
export const MAX_TOKEN_LENGTH = 500;

export const entityTypeRegex = new RegExp(ENTITY_TYPE_PATTERN);
export const eventTypeRegex = entityTypeRegex;
export const entityIdRegex = new RegExp(ENTITY_ID_PATTERN);
export const uuidRegex = new RegExp(UUID_PATTERN);
