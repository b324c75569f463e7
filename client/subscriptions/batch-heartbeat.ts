/**
 * Runs `work` while calling `heartbeat` every `intervalMs`, so that a batch whose handlers take
 * longer than the consumer group's session timeout does not get its member thrown out and the batch
 * handed to another member (re-delivered while it is still being handled). A failed heartbeat is
 * reported to `onError` and the beating goes on: the next one may succeed, and if the member was
 * thrown out, the batch's stale check stops its remaining events.
 */
export async function heartbeatWhile<T>(
  work: () => Promise<T>,
  options: { intervalMs: number; heartbeat: () => Promise<void>; onError: (error: unknown) => void },
): Promise<T> {
  const beating = setInterval(() => {
    options.heartbeat().catch(options.onError);
  }, options.intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(beating);
  }
}

/**
 * The heartbeat interval must leave room for beats to arrive before the session expires: Kafka
 * advises at most a third of the session timeout. A larger one lets a healthy member be thrown out.
 */
export function checkHeartbeat(heartbeatIntervalMs: number, sessionTimeoutMs: number): void {
  if (!(heartbeatIntervalMs > 0) || heartbeatIntervalMs > sessionTimeoutMs / 3) {
    throw new RangeError(
      `kafkaSource: heartbeatIntervalMs (${heartbeatIntervalMs}) must be positive and at most a third of sessionTimeoutMs (${sessionTimeoutMs}), ` +
        'or the group may expire a member whose handlers are merely slow',
    );
  }
}
