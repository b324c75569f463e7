import { RegistrationError } from './registration-error';

/**
 * When the repository stores a snapshot with an append:
 * `{ every: N }` once N or more events were written since the newest snapshot, or a function
 * deciding from the state the append reaches.
 */
export type SnapshotStrategy<A = any> =
  | { every: number }
  | ((entity: A, entityVersion: number, eventsSinceSnapshot: number) => boolean);

export function shouldTakeSnapshot<A>(
  strategy: SnapshotStrategy<A> | undefined,
  entity: A,
  entityVersion: number,
  eventsSinceSnapshot: number,
): boolean {
  if (strategy === undefined) return false;
  if (typeof strategy === 'function') return strategy(entity, entityVersion, eventsSinceSnapshot);
  return eventsSinceSnapshot >= strategy.every;
}

export function checkSnapshotStrategy(strategy: unknown, where: string): void {
  if (strategy === undefined || typeof strategy === 'function') return;
  const every = (strategy as { every?: unknown } | null)?.every;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) {
    throw new RegistrationError(`${where}: snapshots must be { every: N } with N a positive integer, or a function`);
  }
}
