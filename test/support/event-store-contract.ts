import { v4 as uuidv4 } from 'uuid';
import {
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  EventNotFoundError,
  EventStore,
  EventToAppend,
  InMemoryEventStore,
  InvalidCursorError,
  OptimisticLockingError,
  ValidationError,
} from '../../src';
import { compareCursors, decodeCursor, encodeCursor } from '../../src/cursor';

export interface StoreUnderTest {
  store: EventStore;
  /** Releases what `open` made. */
  close(): Promise<void>;
}

const opened = (n: number, prefix = 'Item'): EventToAppend[] =>
  Array.from({ length: n }, (_, i) => ({ eventType: `${prefix}Changed`, eventData: { n: i + 1 } }));

/** What the contract asks of the store it opens. */
export interface ContractStoreOptions {
  /**
   * How often a waiting feed read looks again without a commit announcement: far above the long
   * polls' waits, so that a read answered in time was woken by the commit itself.
   */
  feedFallbackPollMs: number;
}

const CONTRACT_STORE_OPTIONS: ContractStoreOptions = { feedFallbackPollMs: 120_000 };

/**
 * The behaviour every EventStore shares, whatever is behind it. Each implementation's test file
 * calls this with a factory; one store is opened per suite. A PostgreSQL store should get a
 * database of its own: other test files' open transactions hold back the feed of theirs.
 */
export function eventStoreContract(name: string, open: (options: ContractStoreOptions) => Promise<StoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: EventStore;
    const type = () => `Contract${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      subject = await open(CONTRACT_STORE_OPTIONS);
      store = subject.store;
    });
    afterAll(() => subject.close());

    it('creates an entity with versions 1..n and a generated id', async () => {
      const t = type();
      const result = await store.create({ entityType: t, events: opened(3) });
      expect(result.entityId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.entityVersion).toBe(3);
      expect(result.eventIds).toHaveLength(3);
      const loaded = await store.load(t, result.entityId);
      expect(loaded.events.map((e) => e.entityVersion)).toEqual([1, 2, 3]);
      expect(loaded.events.map((e) => e.eventId)).toEqual(result.eventIds);
      expect(loaded.events[2]).toMatchObject({ entityType: t, eventType: 'ItemChanged', eventData: { n: 3 }, metadata: {} });
      expect(Date.parse(loaded.events[0].createdAt)).not.toBeNaN();
    });

    it('refuses a second create of the same id', async () => {
      const t = type();
      await store.create({ entityType: t, entityId: 'a-1', events: opened(1) });
      await expect(store.create({ entityType: t, entityId: 'a-1', events: opened(1) })).rejects.toBeInstanceOf(EntityAlreadyExistsError);
      expect((await store.load(t, 'a-1')).entityVersion).toBe(1);
    });

    it('appends at the expected version and refuses a stale one with both versions', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(1) });
      const appended = await store.append({ entityType: t, entityId, expectedVersion: 1, events: opened(2) });
      expect(appended.entityVersion).toBe(3);
      const stale = store.append({ entityType: t, entityId, expectedVersion: 1, events: opened(1) });
      await expect(stale).rejects.toBeInstanceOf(OptimisticLockingError);
      await expect(stale).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 3, code: 'optimistic_lock_error' });
      expect((await store.load(t, entityId)).entityVersion).toBe(3);
    });

    it('answers entity_not_found for an unknown entity', async () => {
      const t = type();
      await expect(store.append({ entityType: t, entityId: 'nobody', expectedVersion: 1, events: opened(1) })).rejects.toBeInstanceOf(
        EntityNotFoundError,
      );
      await expect(store.load(t, 'nobody')).rejects.toBeInstanceOf(EntityNotFoundError);
      await expect(store.history(t, 'nobody')).rejects.toBeInstanceOf(EntityNotFoundError);
    });

    it('validates names, counts and versions before writing anything', async () => {
      const t = type();
      const bad: Array<() => Promise<unknown>> = [
        () => store.create({ entityType: 'bad"type', events: opened(1) }),
        () => store.create({ entityType: t, entityId: "x';--", events: opened(1) }),
        () => store.create({ entityType: t, entityId: 'x'.repeat(10_000), events: opened(1) }),
        () => store.create({ entityType: t, events: [] }),
        () => store.create({ entityType: t, events: opened(1001) }),
        () => store.create({ entityType: t, events: [{ eventType: 'A\u0000', eventData: {} }] }),
        () => store.create({ entityType: t, events: [{ eventType: 'A', eventData: [] as any }] }),
        () => store.create({ entityType: t, events: [{ eventId: 'not-a-uuid', eventType: 'A', eventData: {} }] }),
        () => store.append({ entityType: t, entityId: 'x', expectedVersion: -1, events: opened(1) }),
        () => store.append({ entityType: t, entityId: 'x', expectedVersion: 1.5, events: opened(1) }),
      ];
      for (const attempt of bad) await expect(attempt()).rejects.toBeInstanceOf(ValidationError);
      expect((await store.listEntities(t)).entities).toEqual([]);
    });

    it('gives events it names time-ordered UUIDv7 ids, and keeps ids the caller chose whatever their version', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(2) });
      const chosen = uuidv4();
      await store.append({ entityType: t, entityId, expectedVersion: 2, events: [{ ...opened(1)[0], eventId: chosen }] });
      const ids = (await store.history(t, entityId)).events.map((e) => e.eventId);
      expect(ids[0][14]).toBe('7');
      expect(ids[1][14]).toBe('7');
      // v7 ids sort as they were made: the 48-bit millisecond time first, then a counter within the millisecond.
      expect(ids[0] < ids[1]).toBe(true);
      expect(ids[2]).toBe(chosen);
    });

    it('returns the first result when an append is retried with the same event ids', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(1) });
      const events = opened(2).map((e) => ({ ...e, eventId: uuidv4() }));
      const first = await store.append({ entityType: t, entityId, expectedVersion: 1, events });
      const retry = await store.append({ entityType: t, entityId, expectedVersion: 1, events });
      expect(retry).toEqual(first);
      expect((await store.history(t, entityId)).events).toHaveLength(3);
      // The same ids in another batch are a conflict, not a retry.
      await expect(store.append({ entityType: t, entityId, expectedVersion: 3, events: [events[1]] })).rejects.toBeInstanceOf(
        OptimisticLockingError,
      );
      const createEvents = opened(1).map((e) => ({ ...e, eventId: uuidv4() }));
      const created = await store.create({ entityType: t, entityId: 'retried', events: createEvents });
      expect(await store.create({ entityType: t, entityId: 'retried', events: createEvents })).toEqual(created);
    });

    it("answers a write with its last event's feed cursor, the first write's on a retry, ordered by compareCursors", async () => {
      const t = type();
      const before = await drain(store, undefined);
      const created = await store.create({ entityType: t, events: opened(2) });
      const events = opened(3).map((e) => ({ ...e, eventId: uuidv4() }));
      const appended = await store.append({ entityType: t, entityId: created.entityId, expectedVersion: 2, events });
      await awaitFeed(store, before, 5, [t]);

      // A read up to the write holds its events, the last one at the write's cursor...
      const upTo = await store.readFeed({ after: before, entityTypes: [t] });
      expect(upTo.events.map((e) => e.entityVersion)).toEqual([1, 2, 3, 4, 5]);
      expect(upTo.events[1].cursor).toBe(created.cursor);
      expect(upTo.events[4].cursor).toBe(appended.cursor);
      // ...and a read after it holds none of them.
      expect((await store.readFeed({ after: created.cursor, entityTypes: [t] })).events.map((e) => e.entityVersion)).toEqual([3, 4, 5]);
      expect((await store.readFeed({ after: appended.cursor, entityTypes: [t] })).events).toEqual([]);

      const retried = await store.append({ entityType: t, entityId: created.entityId, expectedVersion: 2, events });
      expect(retried.cursor).toBe(appended.cursor);
      const createEvents = opened(1).map((e) => ({ ...e, eventId: uuidv4() }));
      const second = await store.create({ entityType: t, entityId: 'retried-cursor', events: createEvents });
      expect((await store.create({ entityType: t, entityId: 'retried-cursor', events: createEvents })).cursor).toBe(second.cursor);

      expect(compareCursors(created.cursor, appended.cursor)).toBeLessThan(0);
      expect(compareCursors(appended.cursor, created.cursor)).toBeGreaterThan(0);
      expect(compareCursors(appended.cursor, upTo.events[4].cursor)).toBe(0);
      expect(compareCursors(appended.cursor, second.cursor)).toBeLessThan(0);
      expect(compareCursors(undefined, created.cursor)).toBeLessThan(0);
      expect(compareCursors(before, created.cursor)).toBeLessThan(0);

      const other = new InMemoryEventStore();
      const foreign = (await other.create({ entityType: t, events: opened(1) })).cursor;
      const [ours, theirs] = [decodeCursor(appended.cursor).storeId!, decodeCursor(foreign).storeId!];
      expect(() => compareCursors(appended.cursor, foreign)).toThrow(InvalidCursorError);
      expect(() => compareCursors(appended.cursor, foreign)).toThrow(new RegExp(`${ours} and ${theirs}`));
      const unidentified = Buffer.from('1.1').toString('base64url');
      expect(() => compareCursors(unidentified, appended.cursor)).toThrow(/no store identity/);
    });

    it('refuses a triggering event token the entity already applied', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(1), triggeringEventToken: 'evt-1' });
      await store.append({ entityType: t, entityId, expectedVersion: 1, events: opened(1), triggeringEventToken: 'evt-2' });
      const again = store.append({ entityType: t, entityId, expectedVersion: 2, events: opened(1), triggeringEventToken: 'evt-2' });
      await expect(again).rejects.toBeInstanceOf(DuplicateTriggeringEventError);
      await expect(again).rejects.toMatchObject({ entityVersion: 2, code: 'duplicate_event' });
      const history = await store.history(t, entityId);
      expect(history.events.map((e) => e.triggeringEventToken)).toEqual(['evt-1', 'evt-2']);
    });

    it('loads from the newest snapshot and can ignore snapshots or stop at a version or time', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(2) });
      await store.append({
        entityType: t,
        entityId,
        expectedVersion: 2,
        events: opened(2),
        snapshot: { snapshotType: 'State', snapshotData: { total: 4 } },
      });
      await store.append({ entityType: t, entityId, expectedVersion: 4, events: opened(1) });
      const latest = await store.load(t, entityId);
      expect(latest.snapshot).toMatchObject({ entityVersion: 4, snapshotType: 'State', snapshotData: { total: 4 } });
      expect(latest.events.map((e) => e.entityVersion)).toEqual([5]);
      expect(latest.entityVersion).toBe(5);

      const full = await store.load(t, entityId, { useSnapshot: false });
      expect(full.snapshot).toBeUndefined();
      expect(full.events.map((e) => e.entityVersion)).toEqual([1, 2, 3, 4, 5]);

      const atThree = await store.load(t, entityId, { toVersion: 3 });
      expect(atThree.snapshot).toBeUndefined();
      expect(atThree.entityVersion).toBe(3);
      expect(atThree.events.map((e) => e.entityVersion)).toEqual([1, 2, 3]);

      const beyond = await store.load(t, entityId, { toVersion: 99 });
      expect(beyond.entityVersion).toBe(5);

      await store.saveSnapshot(t, entityId, 2, { snapshotType: 'State', snapshotData: { total: 2 } });
      const fromTwo = await store.load(t, entityId, { toVersion: 3 });
      expect(fromTwo.snapshot?.entityVersion).toBe(2);
      expect(fromTwo.events.map((e) => e.entityVersion)).toEqual([3]);

      await expect(store.saveSnapshot(t, entityId, 9, { snapshotType: 'State', snapshotData: {} })).rejects.toBeInstanceOf(ValidationError);

      const createdAt = Date.parse(full.events[0].createdAt);
      expect((await store.load(t, entityId, { asOf: new Date(Date.now() + 60_000) })).entityVersion).toBe(5);
      await expect(store.load(t, entityId, { asOf: new Date(createdAt - 60_000) })).rejects.toBeInstanceOf(EntityNotFoundError);
    });

    it('selects an event by its own createdAt: asOf at the time a read gave back includes that event', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(1) });
      for (let i = 0; i < 4; i++) {
        await store.append({ entityType: t, entityId, expectedVersion: i + 1, events: opened(1) });
      }
      const { events } = await store.load(t, entityId, { useSnapshot: false });
      for (const event of events) {
        const atItsTime = await store.load(t, entityId, { asOf: new Date(event.createdAt), useSnapshot: false });
        // Later events may share the millisecond; none before it may be missing, and it must be there.
        expect(atItsTime.entityVersion).toBeGreaterThanOrEqual(event.entityVersion);
        expect(atItsTime.events.map((e) => e.eventId)).toContain(event.eventId);
        expect(new Date(event.createdAt).toISOString()).toBe(event.createdAt);
      }
    });

    it('pages the history, never shortened by snapshots', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(5), snapshot: { snapshotType: 'S', snapshotData: {} } });
      const first = await store.history(t, entityId, { limit: 2 });
      expect(first.events.map((e) => e.entityVersion)).toEqual([1, 2]);
      expect(first.nextFromVersion).toBe(3);
      const last = await store.history(t, entityId, { fromVersion: 5, limit: 2 });
      expect(last.events.map((e) => e.entityVersion)).toEqual([5]);
      expect(last.nextFromVersion).toBeNull();
      expect(last.entityVersion).toBe(5);
    });

    it('marks on each history page the snapshots stored at its versions', async () => {
      const t = type();
      const { entityId } = await store.create({ entityType: t, events: opened(5), snapshot: { snapshotType: 'AtFive', snapshotData: { n: 5 } } });
      await store.saveSnapshot(t, entityId, 2, { snapshotType: 'AtTwo', snapshotData: { n: 2 } });
      const first = await store.history(t, entityId, { limit: 2 });
      expect(first.snapshots).toEqual([{ entityVersion: 2, snapshotType: 'AtTwo', createdAt: expect.any(String) }]);
      expect(new Date(first.snapshots[0].createdAt).toISOString()).toBe(first.snapshots[0].createdAt);
      expect((await store.history(t, entityId, { fromVersion: 3, limit: 2 })).snapshots).toEqual([]);
      expect((await store.history(t, entityId, { fromVersion: 5 })).snapshots.map((s) => s.snapshotType)).toEqual(['AtFive']);
      expect((await store.history(t, entityId)).snapshots.map((s) => s.entityVersion)).toEqual([2, 5]);
      expect((await store.history(t, entityId, { fromVersion: 6 })).snapshots).toEqual([]);
    });

    it('finds one event by its id, in any letter case', async () => {
      const t = type();
      const { entityId, eventIds } = await store.create({ entityType: t, events: opened(2), triggeringEventToken: 'tok-1' });
      const [, second] = (await store.history(t, entityId)).events;
      expect(await store.getEvent(eventIds[1])).toEqual(second);
      expect(await store.getEvent(eventIds[1].toUpperCase())).toEqual(second);
      expect(second).toMatchObject({ entityType: t, entityId, entityVersion: 2, triggeringEventToken: 'tok-1' });
      await expect(store.getEvent(uuidv4())).rejects.toBeInstanceOf(EventNotFoundError);
      await expect(store.getEvent('not-a-uuid')).rejects.toMatchObject({ code: 'validation_error', details: { field: expect.stringMatching(/eventId$/) } });
    });

    it('lists only the entities whose id starts with a prefix, in pages; `_` is no wildcard', async () => {
      const t = type();
      for (const id of ['acc_2', 'acc-1', 'accX', 'ab', 'acc_10', 'acc_1']) await store.create({ entityType: t, entityId: id, events: opened(1) });
      const all = await store.listEntities(t, { prefix: 'acc_' });
      expect(all.entities.map((e) => e.entityId)).toEqual(['acc_1', 'acc_10', 'acc_2']);
      expect(all.next).toBeNull();
      const page1 = await store.listEntities(t, { prefix: 'acc_1', limit: 1 });
      expect(page1.entities.map((e) => e.entityId)).toEqual(['acc_1']);
      const page2 = await store.listEntities(t, { prefix: 'acc_1', limit: 1, after: page1.next! });
      expect(page2.entities.map((e) => e.entityId)).toEqual(['acc_10']);
      expect(page2.next).toBeNull();
      expect((await store.listEntities(t, { prefix: 'ACC' })).entities).toEqual([]);
      await expect(store.listEntities(t, { prefix: 'a%' })).rejects.toMatchObject({ code: 'validation_error', details: { field: expect.stringMatching(/prefix$/) } });
    });

    it('lists entities of a type in pages and counts types', async () => {
      const t = type();
      for (const id of ['c', 'a', 'b']) await store.create({ entityType: t, entityId: id, events: opened(2) });
      const page1 = await store.listEntities(t, { limit: 2 });
      expect(page1.entities.map((e) => e.entityId)).toEqual(['a', 'b']);
      expect(page1.entities[0].entityVersion).toBe(2);
      const page2 = await store.listEntities(t, { after: page1.next!, limit: 2 });
      expect(page2.entities.map((e) => e.entityId)).toEqual(['c']);
      expect(page2.next).toBeNull();
      const types = await store.listEntityTypes();
      expect(types.find((x) => x.entityType === t)).toEqual({ entityType: t, entityCount: 3, eventCount: 6 });
    });

    it('feeds every committed event once, in commit order, resuming from the cursor', async () => {
      const t1 = type();
      const t2 = type();
      // Reads name this test's types: events of earlier tests may still be joining the feed.
      const types = [t1, t2];
      const start = await drain(store, undefined);
      const a = await store.create({ entityType: t1, events: opened(2) });
      const b = await store.create({ entityType: t2, events: opened(1) });
      await store.append({ entityType: t1, entityId: a.entityId, expectedVersion: 2, events: opened(1) });
      await awaitFeed(store, start, 4, types);
      const page = await store.readFeed({ after: start, limit: 2, entityTypes: types });
      expect(page.events.map((e) => [e.entityId, e.entityVersion])).toEqual([
        [a.entityId, 1],
        [a.entityId, 2],
      ]);
      const rest = await store.readFeed({ after: page.cursor, limit: 100, entityTypes: types });
      expect(rest.events.map((e) => [e.entityId, e.entityVersion])).toEqual([
        [b.entityId, 1],
        [a.entityId, 3],
      ]);
      expect(rest.events[1].cursor).toBe(rest.cursor);
      const onlyT2 = await store.readFeed({ after: start, entityTypes: [t2] });
      expect(onlyT2.events.map((e) => e.entityId)).toEqual([b.entityId]);
      // The filter still moves the cursor past the other types' events (a's third, after b's first).
      expect((await store.readFeed({ after: onlyT2.cursor, entityTypes: types })).events).toEqual([]);
      await expect(store.readFeed({ after: 'garbage!' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('answers where the feed ends: the cursor a reader holds after reading it all, after which come exactly the later writes', async () => {
      const t = type();
      const start = (await store.readFeedEnd()).cursor;
      for (let i = 0; i < 3; i++) await store.create({ entityType: t, events: opened(2) });
      await awaitFeed(store, start, 6, [t]);
      const end = (await store.readFeedEnd()).cursor;
      expect(end).toBe(await drain(store, start));
      // A reader of one type only holds the same place at the end.
      expect((await store.readFeed({ after: start, entityTypes: [t] })).cursor).toBe(end);

      const later = await store.create({ entityType: t, events: opened(2) });
      const next = await store.append({ entityType: t, entityId: later.entityId, expectedVersion: 2, events: opened(1) });
      await awaitFeed(store, end, 3);
      const page = await store.readFeed({ after: end });
      expect(page.events.map((e) => [e.entityId, e.entityVersion])).toEqual([
        [later.entityId, 1],
        [later.entityId, 2],
        [later.entityId, 3],
      ]);
      expect((await store.readFeedEnd()).cursor).toBe(next.cursor);
      expect(decodeCursor(end).storeId).toBe(decodeCursor(next.cursor).storeId);
    });

    it('long-polls: a waiting read is woken by the commit itself', async () => {
      const t = type();
      const cursor = await drain(store, undefined);
      const waiting = store.readFeed({ after: cursor, waitMs: 30_000, entityTypes: [t] });
      // Past the reader's first quick rechecks (about 1.3 s): from now on only the commit's wake-up
      // answers before waitMs ends, the fallback poll being far above it (without a wake-up, the
      // read would look again only at its deadline, 27 s after the append).
      await new Promise((r) => setTimeout(r, 2500));
      const appendedAt = Date.now();
      await store.create({ entityType: t, entityId: 'woken', events: opened(1) });
      const page = await waiting;
      expect(page.events.map((e) => e.entityId)).toEqual(['woken']);
      expect(Date.now() - appendedAt).toBeLessThan(15_000);
    });

    it('refuses cursors it did not issue: from another store, of an earlier version, past its present', async () => {
      const other = new InMemoryEventStore();
      await other.create({ entityType: 'Elsewhere', events: opened(1) });
      const foreign = (await other.readFeed()).cursor;
      await expect(store.readFeed({ after: foreign, waitMs: 10_000 })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.readFeed({ after: foreign })).rejects.toMatchObject({ code: 'invalid_cursor', message: /another event store/ });

      const own = await drain(store, undefined);
      const { storeId, transactionId, position } = decodeCursor(own);
      expect(storeId).toMatch(/^[0-9a-f]{16}$/);
      const future = encodeCursor(storeId!, { transactionId: transactionId + (1n << 40n), position });
      await expect(store.readFeed({ after: future })).rejects.toMatchObject({ code: 'invalid_cursor', message: /past this store's present/ });

      // An earlier version's cursor, "<transaction id>.<position>" without identity: this store never issued one...
      const unidentified = Buffer.from('1.1').toString('base64url');
      await expect(store.readFeed({ after: unidentified })).rejects.toMatchObject({ code: 'invalid_cursor', message: /no store identity/ });
      // ...but an earlier version's start of the feed is the start anywhere, and the answer carries this store's identity.
      const fromStart = await store.readFeed({ after: Buffer.from('0.0').toString('base64url'), limit: 1 });
      expect(fromStart.events).toHaveLength(1);
      expect(decodeCursor(fromStart.cursor).storeId).toBe(storeId);
      expect(decodeCursor((await store.readFeed({ after: '', limit: 1 })).cursor).storeId).toBe(storeId);
    });

    it('ends a long poll when its signal aborts', async () => {
      const cursor = await drain(store, undefined);
      const controller = new AbortController();
      const waiting = store.readFeed({ after: cursor, waitMs: 60_000, signal: controller.signal });
      controller.abort();
      expect((await waiting).events).toEqual([]);
    });
  });
}

/**
 * Waits until `count` events after `after` are readable. A commit joins the feed once every older
 * transaction of its database has ended, so a read right after a write may not see it yet.
 */
export async function awaitFeed(store: EventStore, after: string, count: number, entityTypes?: string[]): Promise<void> {
  let seen = 0;
  while (seen < count) {
    const page = await store.readFeed({ after, limit: 1000, waitMs: 10_000, entityTypes });
    if (page.events.length === 0) throw new Error(`only ${seen} of ${count} events reached the feed`);
    seen += page.events.length;
    after = page.cursor;
  }
}

/** Reads the feed to its end and returns the cursor there. */
export async function drain(store: EventStore, after: string | undefined): Promise<string> {
  for (;;) {
    const page = await store.readFeed({ after, limit: 1000 });
    if (page.events.length === 0) return page.cursor;
    after = page.cursor;
  }
}
