import type { StoredEvent } from '../../src/model';

const MAX_DATA_CHARS = 160;

/** One line a person reads at a glance: version, time, type, data (shortened). */
export function formatEventLine(event: StoredEvent, options: { showEntity: boolean }): string {
  const entity = options.showEntity ? `${event.entityType} ${event.entityId} ` : '';
  return `${entity}v${event.entityVersion}  ${event.createdAt}  ${event.eventType}  ${compactJson(event.eventData)}`;
}

/** One JSON document per line, for machines. */
export function formatEventJson(event: StoredEvent): string {
  return JSON.stringify(event);
}

export function compactJson(value: unknown, maxChars = MAX_DATA_CHARS): string {
  return shortened(JSON.stringify(value), maxChars);
}

/** Text cut to one line's worth, the cut marked. */
export function shortened(text: string, maxChars = MAX_DATA_CHARS): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
