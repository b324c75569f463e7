const BACKSLASH = 0x5c;

/** Index of the quote that closes the JSON string opening at `start` (the text must be valid JSON). */
export function endOfJsonString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}
