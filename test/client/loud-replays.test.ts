import 'reflect-metadata';
import { Aggregate, AggregateRepository, Apply, DomainEvent, EventReplayError, Process, RegistrationError } from '../../client';
import { aggregateFixture } from '../../client/testing';
import { openStore, storeKinds, type StoreUnderTest } from './stores';

@DomainEvent('LoudItemAdded')
class ItemAdded {
  constructor(public sku: string) {}
}

@DomainEvent('LoudCartViewed')
class CartViewed {
  constructor(public by: string) {}
}

class AddItem {
  constructor(public sku: string) {}
}
class ViewCart {}

@Aggregate('LoudCart')
class Cart {
  items: string[] = [];

  @Process(AddItem)
  add(command: AddItem) {
    return new ItemAdded(command.sku);
  }

  // Returns an event Cart has no @Apply for.
  @Process(ViewCart)
  view() {
    return new CartViewed('support');
  }

  @Apply()
  onAdded(event: ItemAdded) {
    this.items.push(event.sku);
  }
}

@Aggregate('LoudTolerantCart', { ignoredEventTypes: ['LoudCartViewed', 'LoudItemAded'] })
class TolerantCart {
  items: string[] = [];

  @Process(AddItem)
  add(command: AddItem) {
    return new ItemAdded(command.sku);
  }

  @Process(ViewCart)
  view() {
    return new CartViewed('support');
  }

  @Apply()
  onAdded(event: ItemAdded) {
    this.items.push(event.sku);
  }
}

describe.each(storeKinds)('an event the aggregate cannot apply is an error, not a no-op (%s store)', (kind) => {
  let under: StoreUnderTest;
  beforeAll(async () => {
    under = await openStore(kind);
  });
  afterAll(() => under.close());

  it('a @Process method returning an event without @Apply fails before writing, naming both', async () => {
    const carts = new AggregateRepository(Cart, under.store);
    const { entityId } = await carts.save(new AddItem('a'));
    const refusal = carts.update(entityId, new ViewCart());
    await expect(refusal).rejects.toThrow(RegistrationError);
    await expect(refusal).rejects.toThrow(/Cart\.view \(@Process ViewCart\) returned event CartViewed \('LoudCartViewed'\), which Cart has no @Apply method for/);
    expect((await under.store.load('LoudCart', entityId)).entityVersion).toBe(1);
  });

  it('a stored event of a type no class declares (a renamed @DomainEvent) makes find fail, naming entity, version and type', async () => {
    const carts = new AggregateRepository(Cart, under.store);
    const { entityId } = await carts.save(new AddItem('a'));
    // What an older deployment wrote under @DomainEvent('LoudItemAded'), since renamed.
    await under.store.append({ entityType: 'LoudCart', entityId, expectedVersion: 1, events: [{ eventType: 'LoudItemAded', eventData: { sku: 'b' } }] });
    const find = carts.find(entityId);
    await expect(find).rejects.toBeInstanceOf(EventReplayError);
    await expect(find).rejects.toThrow(`cannot replay LoudCart '${entityId}' at version 2: stored event type 'LoudItemAded' has no @DomainEvent class`);
    await expect(find).rejects.toThrow(/ignoredEventTypes: \['LoudItemAded'\]/);
    // update reads first, so it cannot decide on a wrong state either.
    await expect(carts.update(entityId, new AddItem('c'))).rejects.toBeInstanceOf(EventReplayError);
    expect((await under.store.load('LoudCart', entityId)).entityVersion).toBe(2);
  });

  it('a stored event of a known type the aggregate has no @Apply for makes find fail', async () => {
    const carts = new AggregateRepository(Cart, under.store);
    const { entityId } = await carts.save(new AddItem('a'));
    await under.store.append({ entityType: 'LoudCart', entityId, expectedVersion: 1, events: [{ eventType: 'LoudCartViewed', eventData: { by: 'x' } }] });
    const error = await carts.find(entityId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventReplayError);
    expect(error).toMatchObject({ entityType: 'LoudCart', entityId, entityVersion: 2, eventType: 'LoudCartViewed' });
    expect((error as Error).message).toContain('Cart has no @Apply method for event type');
  });

  it('an aggregate that declares ignoredEventTypes passes over exactly those', async () => {
    const carts = new AggregateRepository(TolerantCart, under.store);
    const { entityId } = await carts.save(new AddItem('a'));
    await carts.update(entityId, new ViewCart());
    await under.store.append({ entityType: 'LoudTolerantCart', entityId, expectedVersion: 2, events: [{ eventType: 'LoudItemAded', eventData: { sku: 'b' } }] });
    await carts.update(entityId, new AddItem('c'));
    const { entity, entityVersion } = await carts.find(entityId);
    expect(entityVersion).toBe(4);
    expect(entity.items).toEqual(['a', 'c']);
    await under.store.append({ entityType: 'LoudTolerantCart', entityId, expectedVersion: 4, events: [{ eventType: 'SomethingElse', eventData: {} }] });
    await expect(carts.find(entityId)).rejects.toThrow(/at version 5: stored event type 'SomethingElse'/);
  });
});

describe('ignoredEventTypes is checked when the class is decorated', () => {
  it('refuses a name that is no event type', () => {
    expect(() => {
      @Aggregate('LoudBadIgnore', { ignoredEventTypes: ['not a type'] })
      class BadIgnore {
        @Apply() on(_e: ItemAdded) {}
      }
      return BadIgnore;
    }).toThrow(/ignoredEventTypes holds "not a type"/);
  });

  it('refuses a type the aggregate also @Applies', () => {
    expect(() => {
      @Aggregate('LoudContradiction', { ignoredEventTypes: ['LoudItemAdded'] })
      class Contradiction {
        @Apply() on(_e: ItemAdded) {}
      }
      return Contradiction;
    }).toThrow(/ignoredEventTypes lists 'LoudItemAdded', which Contradiction\.on @Applies/);
  });
});

describe('the fixture', () => {
  it('reports a @Process that returns an event without @Apply as an error', () => {
    aggregateFixture(Cart).given(new ItemAdded('a')).when(new ViewCart()).expectError(RegistrationError, /no @Apply method/);
  });
});
