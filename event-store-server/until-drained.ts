import type { Writable } from 'node:stream';

/**
 * Resolves when `stream` can take more data ('drain') or will never take any ('close'), and removes
 * both listeners either way: a stream written to for hours passes through here once per full buffer,
 * and a listener left behind each time would pile up without end.
 */
export function untilDrained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
