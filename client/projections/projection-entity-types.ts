import type { ProjectionState } from './projection-tables';

/**
 * What a projection (or the deadline scheduler's index) does at start when it reads entity types
 * its tables were not built from: 'refuse' (fail to start, naming the fix) or 'rebuild' (rebuild
 * blue-green from the feed first).
 */
export type OnNewEntityTypes = 'refuse' | 'rebuild';

export function onNewEntityTypesOption(value: OnNewEntityTypes | undefined, where: string): OnNewEntityTypes {
  const chosen = value ?? 'refuse';
  if (chosen !== 'refuse' && chosen !== 'rebuild') throw new TypeError(`${where}: onNewEntityTypes is 'refuse' or 'rebuild', not ${String(chosen)}`);
  return chosen;
}

/**
 * How the entity types read now differ from those the stored copy was built from. `added` lists
 * only types whose earlier events the copy has passed over: none when it has no feed checkpoint
 * (it never read the feed, or is fed from Kafka, whose new topics a consumer group reads from their
 * start), and none for a projection that reads from the end of the feed (it skips what came before
 * its start by design).
 */
export function entityTypesChange(state: ProjectionState | undefined, reading: string[], readFrom: 'beginning' | 'end'): { added: string[]; removed: string[] } {
  if (!state) return { added: [], removed: [] };
  const added = state.cursor === undefined || readFrom === 'end' ? [] : reading.filter((type) => !state.entityTypes.includes(type));
  return { added, removed: state.entityTypes.filter((type) => !reading.includes(type)) };
}
