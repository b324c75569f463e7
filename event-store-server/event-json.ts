import type { StoredEvent } from '../src/model';

const texts = new WeakMap<StoredEvent, string>();

/**
 * An event as JSON, made once however many readers take it: the feed tail hands every reader the
 * same event object, and weighs it by this text in its window.
 */
export function eventJson(event: StoredEvent): string {
  let text = texts.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    texts.set(event, text);
  }
  return text;
}
