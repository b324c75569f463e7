import type { Pool, PoolClient, QueryConfig } from 'pg';
import { ServiceUnavailableError, WriteOutcomeUnknownError } from '../errors';
import { groupMemberJson } from './group-write-query';
import { isTimeout, isUnavailable } from './sql';
import { PreparedWrite, Queryable, Row, UNIQUE_VIOLATION, WriteTarget } from './write-target';

/**
 * A group's statement gets at most this many events (unless its first member alone has more): a
 * bound on the statement's size and on how long its row locks are held.
 */
const MAX_GROUP_EVENTS = 1000;

interface Waiting {
  write: PreparedWrite;
  /** The entity, for at most one member per entity in flight. */
  key: string;
  eventIds: string[];
  resolve(row: Row | undefined): void;
  reject(err: unknown): void;
}

/**
 * The store's own writes, committed in groups on a few connections of their own. A write that finds
 * a connection free goes out at once, as its own statement; writes that arrive while every
 * connection is busy wait, and the next free connection takes everything waiting (in arrival order)
 * as one group: one statement, one transaction, one commit. Each member keeps its own outcome:
 * a member refused by its checks writes nothing and answers undefined, for its own diagnosis.
 *
 * At most one member per entity is in flight at a time, across all the connections: a later write
 * of the same entity (a retry beside its original, a repeated triggering token, the next append)
 * waits for the next group, so two writes of one entity behave as if sent one after the other, and
 * two groups never wait on each other's row locks. Members of one group never share an event id.
 *
 * An error that fails the group's statement as a whole (one member's data PostgreSQL refuses, a
 * unique violation of an event id stored meanwhile) fails no member by itself: each member is then
 * run alone, as its own statement, and only the bad one fails. No savepoint per member: more than
 * 64 subtransactions in one transaction slow every snapshot of the server.
 */
export class GroupCommitter implements WriteTarget {
  private readonly waiting: Waiting[] = [];
  private readonly inFlight = new Set<string>();
  private running = 0;
  private scheduled = false;

  /**
   * @param pool the committer connections (their number is how many groups may be in flight).
   * @param groupStatement the statement of a group, given the JSON array of its members.
   * @param committed called after a commit that stored something, to announce it to feed readers.
   */
  constructor(
    private readonly pool: Pool,
    private readonly connections: number,
    private readonly groupStatement: (membersJson: string) => QueryConfig,
    private readonly committed: () => void,
    readonly reader: Queryable,
  ) {}

  write(write: PreparedWrite): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const { member } = write;
      this.waiting.push({
        write,
        key: `${member.entityType}/${member.entityId}`,
        eventIds: write.eventIds,
        resolve,
        reject,
      });
      this.scheduleGroups();
    });
  }

  /**
   * Groups are taken once the current turn of the event loop is over (setImmediate), not at once:
   * what arrives in one turn (the requests read in one poll of the sockets, the callers that write
   * again as soon as the previous group answered them) then goes as one group, where taking them
   * one by one sent the first alone to a free connection and the rest behind it (a steady load of
   * 16 writers on one connection went as groups of 1 and 15 alternately, two commits where one
   * does). The cost is one turn of the loop, microseconds when the process is idle.
   */
  private scheduleGroups(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startGroups();
    });
  }

  private startGroups(): void {
    while (this.running < this.connections) {
      const group = this.takeGroup();
      if (group.length === 0) return;
      this.running++;
      for (const w of group) this.inFlight.add(w.key);
      void this.commit(group).finally(() => {
        this.running--;
        for (const w of group) this.inFlight.delete(w.key);
        this.scheduleGroups();
      });
    }
  }

  /**
   * Takes from the waiting writes, in arrival order, every one whose entity is not in flight nor
   * already in the group (nor behind a write of its entity left waiting) and whose event ids no
   * member has; the others keep their place.
   */
  private takeGroup(): Waiting[] {
    const blocked = new Set(this.inFlight);
    const ids = new Set<string>();
    const group: Waiting[] = [];
    const left: Waiting[] = [];
    let events = 0;
    for (const w of this.waiting) {
      const full = group.length > 0 && events + w.eventIds.length > MAX_GROUP_EVENTS;
      if (full || blocked.has(w.key) || w.eventIds.some((id) => ids.has(id))) {
        blocked.add(w.key);
        left.push(w);
        continue;
      }
      blocked.add(w.key);
      for (const id of w.eventIds) ids.add(id);
      events += w.eventIds.length;
      group.push(w);
    }
    this.waiting.splice(0, this.waiting.length, ...left);
    return group;
  }

  private async commit(group: Waiting[]): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      // Nothing was sent: the outcome is known (not stored), the error is the driver's.
      for (const w of group) w.reject(err);
      return;
    }
    let broken: Error | undefined;
    try {
      if (group.length === 1) {
        broken = await this.commitAlone(client, group[0]);
        return;
      }
      let rows: Row[];
      try {
        rows = (await client.query(this.groupStatement(`[${group.map((w, i) => groupMemberJson(i + 1, w.write.member)).join(',')}]`))).rows;
      } catch (err) {
        if (isUnavailable(err)) {
          broken = err as Error;
          for (const w of group) w.reject(outcomeOf(err));
          return;
        }
        // The group's statement failed as a whole and stored nothing: each member alone, in arrival order.
        for (const w of group) {
          if (broken) {
            w.reject(new ServiceUnavailableError('the event store database connection broke before this write was sent: nothing of it was stored', {}, { cause: broken }));
            continue;
          }
          broken = await this.commitAlone(client, w);
        }
        return;
      }
      if (rows.length > 0) this.committed();
      const byMember = new Map(rows.map((r) => [r.member as number, r]));
      group.forEach((w, i) => w.resolve(byMember.get(i + 1)));
    } finally {
      client.release(broken);
    }
  }

  /** The write as its own statement; answers the error that made the connection unusable, if one did. */
  private async commitAlone(client: PoolClient, w: Waiting): Promise<Error | undefined> {
    try {
      const { rows } = await client.query(w.write.statement);
      if (rows.length !== 1) {
        w.resolve(undefined);
        return undefined;
      }
      this.committed();
      w.resolve(rows[0]);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        w.resolve(undefined);
      } else if (isUnavailable(err)) {
        w.reject(outcomeOf(err));
        return err as Error;
      } else {
        w.reject(err);
      }
    }
    return undefined;
  }
}

/**
 * The error of a write whose connection failed under it (the connection is then dropped): a timeout
 * is the driver's, answered as such; a connection that ended while the statement was under way
 * leaves unknown whether it committed.
 */
function outcomeOf(err: unknown): unknown {
  return isTimeout(err) ? err : new WriteOutcomeUnknownError({ cause: err });
}
