import 'reflect-metadata';
import { isDeepStrictEqual } from 'node:util';
import { Aggregate, AggregateRepository, Apply, DomainEvent, Process, RegistrationError, Type } from '../../client';
import { openStore, storeKinds, type StoreUnderTest } from './stores';

class Entry {
  @Type(() => Date) bookedAt!: Date;
  constructor(
    public description: string,
    public amount: number,
    bookedAt: Date,
  ) {
    this.bookedAt = bookedAt;
  }
}

class OpenLedger {
  constructor(public name: string) {}
}

class Book {
  constructor(public entry: Entry) {}
}

@DomainEvent('LedgerOpened')
class LedgerOpened {
  constructor(public name: string) {}
}

@DomainEvent('EntryBooked')
class EntryBooked {
  @Type(() => Entry) entry!: Entry;
  constructor(entry: Entry) {
    this.entry = entry;
  }
}

@Aggregate('Ledger', { snapshots: { every: 5 } })
class Ledger {
  name = '';
  total = 0;
  @Type(() => Entry) entries: Entry[] = [];
  @Type(() => Entry) largest?: Entry;
  @Type(() => Date) lastBookedAt?: Date;

  @Process(OpenLedger) open(command: OpenLedger) {
    return [new LedgerOpened(command.name)];
  }

  @Process(Book) book(command: Book) {
    return [new EntryBooked(command.entry)];
  }

  @Apply() opened(event: LedgerOpened) {
    this.name = event.name;
  }

  @Apply() booked(event: EntryBooked) {
    this.entries.push(event.entry);
    this.total += event.entry.amount;
    if (!this.largest || event.entry.amount > this.largest.amount) this.largest = event.entry;
    this.lastBookedAt = event.entry.bookedAt;
  }
}

class Touch {}

@DomainEvent('Touched')
class Touched {}

@Aggregate('Careless', { snapshots: { every: 1 } })
class Careless {
  // No @Type: class-transformer would read this back as a string.
  touchedAt?: Date;

  @Process(Touch) touch() {
    return [new Touched()];
  }

  @Apply() touched(_event: Touched) {
    this.touchedAt = new Date('2024-01-01T00:00:00.000Z');
  }
}

function entry(i: number): Entry {
  return new Entry(`entry ${i}`, (i * 37) % 101, new Date(Date.UTC(2024, 0, 1, 0, i)));
}

describe.each(storeKinds)('snapshots on the %s store', (kind) => {
  let opened: StoreUnderTest;
  let ledgers: AggregateRepository<Ledger>;

  beforeAll(async () => {
    opened = await openStore(kind);
    ledgers = new AggregateRepository(Ledger, opened.store);
  });
  afterAll(() => opened.close());

  async function ledgerWithEntries(count: number): Promise<string> {
    const { entityId } = await ledgers.save(new OpenLedger('main'));
    for (let i = 1; i <= count; i++) await ledgers.update(entityId, new Book(entry(i)));
    return entityId;
  }

  async function snapshotVersions(entityId: string): Promise<number[]> {
    if (!opened.database) {
      // The in-memory store exposes its snapshots only through load: walk down from the top.
      const versions: number[] = [];
      let bound = (await opened.store.load('Ledger', entityId, { useSnapshot: false })).entityVersion;
      while (bound > 0) {
        const { snapshot } = await opened.store.load('Ledger', entityId, { toVersion: bound });
        if (!snapshot) break;
        versions.unshift(snapshot.entityVersion);
        bound = snapshot.entityVersion - 1;
      }
      return versions;
    }
    const { rows } = await opened.database.pool.query(
      `SELECT entity_version FROM "${opened.database.schema}".snapshots WHERE entity_id = $1 ORDER BY entity_version`,
      [entityId],
    );
    return rows.map((row) => row.entity_version);
  }

  it('writes a snapshot with the append every 5 events', async () => {
    const entityId = await ledgerWithEntries(23);
    expect(await snapshotVersions(entityId)).toEqual([5, 10, 15, 20]);
    const loaded = await opened.store.load('Ledger', entityId);
    expect(loaded.snapshot?.snapshotType).toBe('Ledger');
    expect(loaded.snapshot?.entityVersion).toBe(20);
    expect(loaded.events.map((event) => event.entityVersion)).toEqual([21, 22, 23, 24]);
  });

  it('find from the newest snapshot gives exactly the state of a full replay, at every version', async () => {
    const entityId = await ledgerWithEntries(23);
    for (const toVersion of [undefined, 24, 20, 17, 5, 4, 1]) {
      const fromSnapshot = await ledgers.find(entityId, { toVersion });
      const replayed = await ledgers.find(entityId, { toVersion, useSnapshot: false });
      expect(fromSnapshot.entityVersion).toBe(toVersion ?? 24);
      expect(fromSnapshot).toEqual(replayed);
      // Same prototypes all the way down: Entry instances and Dates, not plain objects and strings.
      expect(isDeepStrictEqual(fromSnapshot.entity, replayed.entity)).toBe(true);
    }
    const { entity } = await ledgers.find(entityId);
    expect(entity.entries).toHaveLength(23);
    expect(entity.entries[22]).toBeInstanceOf(Entry);
    expect(entity.largest).toBeInstanceOf(Entry);
    expect(entity.lastBookedAt).toBeInstanceOf(Date);
  });

  it('a function decides when to snapshot, given the state, the version and the events since the last snapshot', async () => {
    const calls: [number, number][] = [];
    const byFunction = new AggregateRepository(Ledger, opened.store, {
      snapshots: (ledger, version, sinceSnapshot) => {
        calls.push([version, sinceSnapshot]);
        return ledger.total >= 100 && sinceSnapshot >= 3;
      },
    });
    const { entityId } = await byFunction.save(new OpenLedger('by function'));
    for (const amount of [60, 50, 1, 1, 1, 1]) await byFunction.update(entityId, new Book(new Entry('x', amount, new Date(0))));
    expect(calls).toEqual([[1, 1], [2, 2], [3, 3], [4, 1], [5, 2], [6, 3], [7, 1]]);
    expect(await snapshotVersions(entityId)).toEqual([3, 6]);
    expect(await byFunction.find(entityId)).toEqual(await byFunction.find(entityId, { useSnapshot: false }));
  });

  it('ignores a snapshot written for another snapshotVersion of the class and replays the events', async () => {
    const entityId = await ledgerWithEntries(7);
    await opened.store.saveSnapshot('Ledger', entityId, 8, { snapshotType: 'Ledger.v7', snapshotData: { total: -1 } });
    const found = await ledgers.find(entityId);
    expect(found.entity.total).not.toBe(-1);
    expect(found).toEqual(await ledgers.find(entityId, { useSnapshot: false }));
  });

  it('refuses a snapshot that would not restore the same state, naming the field', async () => {
    const careless = new AggregateRepository(Careless, opened.store);
    const attempt = careless.save(new Touch());
    await expect(attempt).rejects.toBeInstanceOf(RegistrationError);
    await expect(attempt).rejects.toThrow(
      'a snapshot of Careless would not restore the same state: Careless.touchedAt: the Date 2024-01-01T00:00:00.000Z became the string "2024-01-01T00:00:00.000Z"; add @Type(() => Date)',
    );
  });
});
