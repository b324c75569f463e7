import 'reflect-metadata';
import pino from 'pino';
import {
  Aggregate,
  AggregateRepository,
  Apply,
  DomainEvent,
  Process,
  RegistrationError,
  Type,
  ValueObject,
  deserializeStoredEvent,
  type StoredEvent,
} from '../../client';
import { aggregateFixture } from '../../client/testing';
import { EventHandlerMethod, EventSubscriber } from '../../client/decorators/event-subscriber';
import type { EventHandlerContext } from '../../client/subscriptions/event-handler-context';
import { SubscriberDispatcher } from '../../client/subscriptions/subscriber-dispatcher';
import { subscriberModelOf } from '../../client/decorators/event-subscriber';
import { openStore, storeKinds, type StoreUnderTest } from './stores';

// The README's style: events and commands with constructor parameter properties, no @Type.
class Money {
  constructor(
    public cents: number,
    public currency: string,
  ) {}
}

@ValueObject()
class OrderLine {
  constructor(
    public sku: string,
    public shippedAt: Date,
  ) {}
}

// Without @ValueObject, TypeScript records nothing about the constructor: its Date needs a @Type.
class Parcel {
  @Type(() => Date) sentAt: Date;

  constructor(sentAt: Date) {
    this.sentAt = sentAt;
  }
}

class Undecorated {
  constructor(public at: Date) {}
}

@DomainEvent('ExactOrderPlaced', { types: { lines: () => OrderLine } })
class OrderPlaced {
  constructor(
    public placedAt: Date,
    public total: Money,
    public lines: OrderLine[],
    public dueAt?: Date,
    public note?: string,
  ) {}
}

@DomainEvent('ExactOrderNoted')
class OrderNoted {
  constructor(public note: string) {}
}

@DomainEvent('ExactLinesAdded')
class LinesAddedWithoutTypes {
  constructor(public lines: OrderLine[]) {}
}

@DomainEvent('ExactShipped')
class Shipped {
  constructor(
    public parcel: Parcel,
    public label: Undecorated,
  ) {}
}

@DomainEvent('ExactMeasured')
class Measured {
  constructor(public value: number) {}
}

class PlaceOrder {
  constructor(
    public placedAt: Date,
    public dueAt?: Date,
  ) {}
}
class NoteOrder {
  constructor(public note: string) {}
}
class AddLinesUntyped {}
class Ship {
  constructor(public labelledAt: Date) {}
}
class Measure {
  constructor(public value: number) {}
}

@Aggregate('ExactOrder', { snapshots: { every: 2 } })
class ExactOrder {
  @Type(() => OrderPlaced) placed?: OrderPlaced;
  notes: string[] = [];

  @Process(PlaceOrder)
  place(command: PlaceOrder) {
    const lines = [new OrderLine('sku-1', new Date('2026-03-01T10:00:00.000Z')), new OrderLine('sku-2', new Date('2026-03-02T10:00:00.000Z'))];
    return new OrderPlaced(command.placedAt, new Money(1250, 'EUR'), lines, command.dueAt, command.dueAt ? 'with due date' : undefined);
  }

  @Process(NoteOrder)
  noteIt(command: NoteOrder) {
    return new OrderNoted(command.note);
  }

  @Process(AddLinesUntyped)
  addUntyped() {
    return new LinesAddedWithoutTypes([new OrderLine('x', new Date())]);
  }

  @Process(Ship)
  ship(command: Ship) {
    return new Shipped(new Parcel(new Date('2026-05-01T00:00:00.000Z')), new Undecorated(command.labelledAt));
  }

  @Process(Measure)
  measure(command: Measure) {
    return new Measured(command.value);
  }

  @Apply()
  onPlaced(event: OrderPlaced) {
    this.placed = event;
  }

  @Apply()
  onNoted(event: OrderNoted) {
    this.notes.push(event.note);
  }

  @Apply()
  onLines(_event: LinesAddedWithoutTypes) {}

  @Apply()
  onMeasured(_event: Measured) {}

  @Apply()
  onShipped(_event: Shipped) {}
}

const placedAt = new Date('2026-02-03T04:05:06.789Z');
const dueAt = new Date('2026-04-01T00:00:00.000Z');

function expectExactOrder(event: OrderPlaced | undefined, due: Date | undefined): void {
  expect(event).toBeInstanceOf(OrderPlaced);
  expect(event!.placedAt).toBeInstanceOf(Date);
  expect(event!.placedAt.getTime()).toBe(placedAt.getTime());
  expect(event!.total).toBeInstanceOf(Money);
  expect(event!.total).toEqual(new Money(1250, 'EUR'));
  expect(event!.lines).toHaveLength(2);
  for (const line of event!.lines) {
    expect(line).toBeInstanceOf(OrderLine);
    expect(line.shippedAt).toBeInstanceOf(Date);
  }
  expect(event!.lines[1].shippedAt.toISOString()).toBe('2026-03-02T10:00:00.000Z');
  if (due === undefined) {
    expect(event!.dueAt).toBeUndefined();
  } else {
    expect(event!.dueAt).toBeInstanceOf(Date);
    expect(event!.dueAt!.getTime()).toBe(due.getTime());
  }
}

@EventSubscriber('exactOrderWatcher', { entityTypes: ['ExactOrder'] })
class OrderWatcher {
  seen: OrderPlaced[] = [];

  @EventHandlerMethod(OrderPlaced)
  async onPlaced(context: EventHandlerContext<OrderPlaced>) {
    this.seen.push(context.event);
  }
}

describe.each(storeKinds)('values come back as the types they went in as (%s store)', (kind) => {
  let under: StoreUnderTest;
  let repository: AggregateRepository<ExactOrder>;
  beforeAll(async () => {
    under = await openStore(kind);
    repository = new AggregateRepository(ExactOrder, under.store);
  });
  afterAll(() => under.close());

  it('in find, toVersion and asOf reads, with an optional Date set and unset', async () => {
    const withDue = await repository.save(new PlaceOrder(placedAt, dueAt));
    const withoutDue = await repository.save(new PlaceOrder(placedAt));
    await repository.update(withDue.entityId, new NoteOrder('first'));
    await repository.update(withDue.entityId, new NoteOrder('second'));

    expectExactOrder((await repository.find(withDue.entityId, { useSnapshot: false })).entity.placed, dueAt);
    expectExactOrder((await repository.find(withoutDue.entityId)).entity.placed, undefined);
    expectExactOrder((await repository.find(withDue.entityId, { toVersion: 1 })).entity.placed, dueAt);
    const { events } = await under.store.load('ExactOrder', withDue.entityId, { useSnapshot: false });
    const atFirst = await repository.find(withDue.entityId, { asOf: new Date(events[0].createdAt), useSnapshot: false });
    expectExactOrder(atFirst.entity.placed, dueAt);
  });

  it('in snapshots: a state restored from a snapshot holds the same types', async () => {
    const { entityId } = await repository.save(new PlaceOrder(placedAt, dueAt));
    await repository.update(entityId, new NoteOrder('snapshot is due at version 2'));
    const loaded = await under.store.load('ExactOrder', entityId);
    expect(loaded.snapshot?.entityVersion).toBe(2);
    const { entity } = await repository.find(entityId);
    expectExactOrder(entity.placed, dueAt);
    expect(entity.notes).toEqual(['snapshot is due at version 2']);
  });

  it("in subscribers' ctx.event", async () => {
    const { entityId } = await repository.save(new PlaceOrder(placedAt, dueAt));
    const stored: StoredEvent = (await under.store.load('ExactOrder', entityId, { useSnapshot: false })).events[0];
    const watcher = new OrderWatcher();
    const dispatcher = new SubscriberDispatcher(watcher, subscriberModelOf(watcher), pino({ level: 'silent' }));
    expect(await dispatcher.dispatch(stored)).toEqual({ kind: 'handled' });
    expectExactOrder(watcher.seen[0], dueAt);
  });

  it('refuses, before anything is written, an event that would not read back, naming the class, the field and the fix', async () => {
    const { entityId } = await repository.save(new PlaceOrder(placedAt));
    const before = await under.store.load('ExactOrder', entityId, { useSnapshot: false });
    const refusal = repository.update(entityId, new AddLinesUntyped());
    await expect(refusal).rejects.toThrow(RegistrationError);
    await expect(refusal).rejects.toThrow(
      /LinesAddedWithoutTypes\.lines\[0\]: a OrderLine became a plain object; add @Type\(\(\) => OrderLine\).*\{ types: \{ lines: \(\) => OrderLine \} \}/,
    );
    await expect(repository.update(entityId, new Measure(Number.NaN))).rejects.toThrow(/Measured\.value: the number NaN became null/);
    await expect(repository.update(entityId, new Ship(new Date()))).rejects.toThrow(
      /Shipped\.label\.at: the Date \S+ became the string .*mark the class that holds the field @ValueObject\(\)/,
    );
    const after = await under.store.load('ExactOrder', entityId, { useSnapshot: false });
    expect(after.entityVersion).toBe(before.entityVersion);
    await expect(repository.save(new Measure(Number.POSITIVE_INFINITY))).rejects.toThrow(RegistrationError);
  });
});

describe('a stored Date that is no date', () => {
  it('is an error naming the field, never an Invalid Date in a Date field', () => {
    const stored = { eventType: 'ExactOrderPlaced', eventData: { placedAt: 'yesterday', total: { cents: 1, currency: 'EUR' }, lines: [] }, metadata: {} };
    expect(() => deserializeStoredEvent(stored)).toThrow(/no valid date at OrderPlaced\.placedAt/);
  });
});

describe('the aggregate fixture', () => {
  it('gives back given events with their types', () => {
    const placed = new OrderPlaced(placedAt, new Money(1250, 'EUR'), [new OrderLine('sku-1', new Date(0)), new OrderLine('sku-2', new Date('2026-03-02T10:00:00.000Z'))], dueAt);
    aggregateFixture(ExactOrder)
      .given(placed)
      .when(new NoteOrder('n'))
      .expectEvents(new OrderNoted('n'))
      .expectState((order) => expectExactOrder(order.placed, dueAt));
  });
});
