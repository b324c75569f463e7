// @ts-check
/**
 * The event store's HTTP API, as the console calls it. The API key (when the server has keys) is
 * sent in the Authorization header only, never in a URL, and kept in sessionStorage: it lasts as
 * long as the tab.
 */

/**
 * @typedef {{ eventId: string, entityType: string, entityId: string, entityVersion: number, eventType: string,
 *   eventData: Record<string, unknown>, metadata: Record<string, unknown>, triggeringEventToken?: string,
 *   createdAt: string, cursor?: string }} StoredEvent
 * @typedef {{ entityVersion: number, snapshotType: string, createdAt: string }} SnapshotMark
 * @typedef {SnapshotMark & { snapshotData: Record<string, unknown> }} StoredSnapshot
 * @typedef {{ entityType: string, entityCount: number, eventCount: number }} TypeSummary
 * @typedef {{ entityId: string, entityVersion: number, createdAt: string, updatedAt: string }} EntitySummary
 * @typedef {{ entityType: string, entityId: string, entityVersion: number, events: StoredEvent[],
 *   snapshots: SnapshotMark[], nextFromVersion: number | null }} HistoryPage
 * @typedef {{ entityType: string, entityId: string, entityVersion: number, snapshot?: StoredSnapshot,
 *   events: StoredEvent[] }} LoadedEntity
 */

const KEY_ITEM = 'eventuate-console.api-key';

/** The server answered 401: the console asks for a key. */
export class Unauthorized extends Error {}

/** Any other refusal, with the problem's detail. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   */
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export const apiKey = {
  /** @returns {string | null} */
  get: () => sessionStorage.getItem(KEY_ITEM),
  /** @param {string} key */
  set: (key) => sessionStorage.setItem(KEY_ITEM, key),
  forget: () => sessionStorage.removeItem(KEY_ITEM),
};

/** @returns {Record<string, string>} */
function headers() {
  const key = apiKey.get();
  return key ? { accept: 'application/json', authorization: `Bearer ${key}` } : { accept: 'application/json' };
}

/**
 * A relative URL (the page is at <base>/console, the API at <base>/...).
 * @param {string} path
 * @param {Record<string, string | number | undefined>} [query]
 */
function apiUrl(path, query = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(name, String(value));
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}

/** @param {Response} response */
async function refusal(response) {
  if (response.status === 401) return new Unauthorized('the API key is missing or not valid');
  const text = await response.text();
  try {
    const problem = JSON.parse(text);
    return new ApiError(response.status, String(problem.detail ?? problem.title ?? `HTTP ${response.status}`));
  } catch {
    return new ApiError(response.status, `HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
}

/**
 * @param {string} path
 * @param {Record<string, string | number | undefined>} [query]
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function getJson(path, query, signal) {
  const response = await fetch(apiUrl(path, query), { headers: headers(), signal });
  if (!response.ok) throw await refusal(response);
  return response.json();
}

/** @param {string} segment */
const seg = (segment) => encodeURIComponent(segment);

export const api = {
  /** @returns {Promise<TypeSummary[]>} */
  types: async () => (await getJson('types')).types,
  /**
   * @param {string} type
   * @param {{ prefix?: string, after?: string, limit?: number }} options
   * @returns {Promise<{ entities: EntitySummary[], next: string | null }>}
   */
  entities: (type, options) => getJson(`entity/${seg(type)}`, options),
  /**
   * @param {string} type
   * @param {string} id
   * @param {{ fromVersion?: number, limit?: number }} options
   * @returns {Promise<HistoryPage>}
   */
  history: (type, id, options) => getJson(`entity/${seg(type)}/${seg(id)}/history`, options),
  /**
   * @param {string} type
   * @param {string} id
   * @param {{ toVersion: number, snapshot?: string }} options
   * @returns {Promise<LoadedEntity>}
   */
  load: (type, id, options) => getJson(`entity/${seg(type)}/${seg(id)}`, options),
  /**
   * @param {string} eventId
   * @returns {Promise<StoredEvent>}
   */
  event: (eventId) => getJson(`events/${seg(eventId)}`),
};

/**
 * The cursor where the feed ends now (GET /events/end): streaming after it shows what commits later.
 * @param {AbortSignal} signal
 * @returns {Promise<string>}
 */
export async function feedEnd(signal) {
  return (await getJson('events/end', {}, signal)).cursor;
}

/**
 * Reads GET /events/stream with fetch (EventSource cannot send the Authorization header) and calls
 * `onEvent` for each event. Resolves when the server ends the stream; rejects on a refusal, an
 * in-band error event, or a lost connection. The caller resumes from the last event's cursor.
 * @param {{ after: string, entityTypes?: string, signal: AbortSignal, onEvent: (event: StoredEvent) => void }} options
 */
export async function streamFeed({ after, entityTypes, signal, onEvent }) {
  const response = await fetch(apiUrl('events/stream', { after, entityTypes }), { headers: { ...headers(), accept: 'text/event-stream' }, signal });
  if (!response.ok) throw await refusal(response);
  if (!response.body) throw new ApiError(response.status, 'the stream has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseSseBlock(block);
      if (message.event === 'error') throw new ApiError(500, `the stream ended with an error: ${message.data}`);
      if (message.data !== '') onEvent(JSON.parse(message.data));
    }
  }
}

/**
 * One Server-Sent Events message: `field: value` lines; comment lines start with a colon.
 * @param {string} block
 */
function parseSseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}
