import type { DeadLetter, DeadLetterStore } from './dead-letter-store';

/**
 * Dead letters in this process's memory (each is also logged as an error): for tests and throwaway
 * views. Nothing survives a restart, and the CLI cannot see them; use postgresDeadLetters otherwise.
 */
export function memoryDeadLetters(): DeadLetterStore {
  const bySubscriber = new Map<string, Map<string, DeadLetter>>();
  let sequence = 0;
  const letters = (subscriberId: string) => {
    let map = bySubscriber.get(subscriberId);
    if (!map) bySubscriber.set(subscriberId, (map = new Map()));
    return map;
  };
  // Callers get copies, as from a database: changing one changes nothing stored.
  const copy = (letter: DeadLetter): DeadLetter => structuredClone(letter);
  const ordered = (subscriberId: string) => [...letters(subscriberId).values()].sort((a, b) => a.sequence - b.sequence);
  const firstParking = (subscriberId: string, entityKey: string) => ordered(subscriberId).find((l) => l.parksEntity && l.entityKey === entityKey);

  return {
    async record(letter) {
      const map = letters(letter.subscriberId);
      if (map.has(letter.id)) return false;
      map.set(letter.id, copy({ ...letter, sequence: ++sequence, recordedAt: new Date().toISOString() }));
      return true;
    },
    async find(subscriberId, id) {
      const letter = letters(subscriberId).get(id);
      return letter && copy(letter);
    },
    async list(subscriberId, options = {}) {
      const all = ordered(subscriberId).filter(
        (l) => (options.entityKey === undefined || l.entityKey === options.entityKey) && (options.parksEntity === undefined || l.parksEntity === options.parksEntity),
      );
      return all.slice(0, options.limit ?? all.length).map(copy);
    },
    async parkedEntities(subscriberId) {
      return [...new Set(ordered(subscriberId).filter((l) => l.parksEntity).map((l) => l.entityKey))];
    },
    async pending(subscriberId) {
      return ordered(subscriberId)
        .filter((l) => (l.state === 'failed' && l.retryRequestedAt !== undefined) || (l.state === 'parked' && firstParking(subscriberId, l.entityKey) === l))
        .map(copy);
    },
    async counts(subscriberId) {
      const all = ordered(subscriberId);
      return {
        failed: all.filter((l) => l.state === 'failed').length,
        parked: all.filter((l) => l.state === 'parked').length,
        parkedEntities: new Set(all.filter((l) => l.parksEntity).map((l) => l.entityKey)).size,
      };
    },
    async requestRetry(subscriberId, ids) {
      const now = new Date().toISOString();
      const marked: string[] = [];
      for (const letter of ordered(subscriberId)) {
        if (letter.state !== 'failed' || !letter.event || (ids !== 'all' && !ids.includes(letter.id))) continue;
        letter.retryRequestedAt ??= now;
        marked.push(letter.id);
      }
      return marked;
    },
    async claimRetry(subscriberId, id) {
      const letter = letters(subscriberId).get(id);
      if (letter?.retryRequestedAt === undefined) return false;
      delete letter.retryRequestedAt;
      return true;
    },
    async recordFailure(subscriberId, id, { error, attempts, at }) {
      const letter = letters(subscriberId).get(id);
      if (!letter) return;
      Object.assign(letter, { state: 'failed', error, attempts: letter.attempts + attempts, failedAt: at });
    },
    async remove(subscriberId, id) {
      return letters(subscriberId).delete(id);
    },
  };
}
