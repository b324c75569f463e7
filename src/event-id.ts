import { v7 as uuidv7 } from 'uuid';

/**
 * A new event's id, wherever one is chosen (the stores, the HTTP client, the repository): a UUIDv7,
 * time-ordered, so that the events' primary-key index grows at its right edge instead of taking
 * each insert on a random page. Measured (npm run bench -- scale): 10 million events went in 6.4×
 * faster with v7 ids than with random v4 ones (222 s against 1,421 s); appends and loads at 10
 * million did not differ beyond the machine's noise. Ids callers supply are accepted whatever
 * their version.
 */
export function newEventId(): string {
  return uuidv7();
}
