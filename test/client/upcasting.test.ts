import 'reflect-metadata';
import {
  Aggregate,
  AggregateRepository,
  Apply,
  DomainEvent,
  EventDeserializationError,
  Process,
  deserializeStoredEvent,
  upcastEventData,
} from '../../client';
import { openStore, storeKinds, type StoreUnderTest } from './stores';

class ListProduct {
  constructor(public name: string) {}
}

class ChangePrice {
  constructor(
    public amountCents: number,
    public currency: string,
  ) {}
}

@DomainEvent('ProductListed')
class ProductListed {
  constructor(public name: string) {}
}

/** Version 1 was `{ price: number }` in euros; version 2 has cents and a currency. */
@DomainEvent('PriceChanged', {
  schemaVersion: 2,
  upcasters: { 1: (v1) => ({ amountCents: Math.round(v1.price * 100), currency: 'EUR' }) },
})
class PriceChanged {
  constructor(
    public amountCents: number,
    public currency: string,
  ) {}

  label(): string {
    return `${(this.amountCents / 100).toFixed(2)} ${this.currency}`;
  }
}

/** Three versions: the upcasters run in a chain, 1 → 2 → 3. */
@DomainEvent('StockCounted', {
  schemaVersion: 3,
  upcasters: {
    1: (v1) => ({ quantity: v1.count }),
    2: (v2) => ({ quantity: v2.quantity, warehouse: 'main' }),
  },
})
class StockCounted {
  constructor(
    public quantity: number,
    public warehouse: string,
  ) {}
}

@Aggregate('Product')
class Product {
  name = '';
  priceLabels: string[] = [];

  @Process(ListProduct) list(command: ListProduct) {
    return [new ProductListed(command.name)];
  }

  @Process(ChangePrice) changePrice(command: ChangePrice) {
    return [new PriceChanged(command.amountCents, command.currency)];
  }

  @Apply() listed(event: ProductListed) {
    this.name = event.name;
  }

  @Apply() priceChanged(event: PriceChanged) {
    this.priceLabels.push(event.label());
  }
}

describe.each(storeKinds)('upcasting on the %s store', (kind) => {
  let opened: StoreUnderTest;
  let products: AggregateRepository<Product>;

  beforeAll(async () => {
    opened = await openStore(kind);
    products = new AggregateRepository(Product, opened.store);
  });
  afterAll(() => opened.close());

  it('find turns events stored under schema version 1 into version 2; new events are written as version 2', async () => {
    // An old writer's events, straight through the store: one with its version recorded, one from before versions were recorded.
    const { entityId } = await opened.store.create({
      entityType: 'Product',
      events: [
        { eventType: 'ProductListed', eventData: { name: 'kettle' }, metadata: { schemaVersion: 1 } },
        { eventType: 'PriceChanged', eventData: { price: 19.99 }, metadata: { schemaVersion: 1 } },
        { eventType: 'PriceChanged', eventData: { price: 17.5 } },
      ],
    });
    await products.update(entityId, new ChangePrice(1500, 'USD'));

    const { entity, entityVersion } = await products.find(entityId);
    expect(entityVersion).toBe(4);
    expect(entity.name).toBe('kettle');
    expect(entity.priceLabels).toEqual(['19.99 EUR', '17.50 EUR', '15.00 USD']);

    const { events } = await opened.store.history('Product', entityId);
    // The stored JSON is never rewritten; the version written is in the metadata.
    expect(events[1].eventData).toEqual({ price: 19.99 });
    expect(events[3].eventData).toEqual({ amountCents: 1500, currency: 'USD' });
    expect(events[3].metadata).toEqual({ schemaVersion: 2 });

    const upcast = deserializeStoredEvent(events[1]);
    expect(upcast).toBeInstanceOf(PriceChanged);
    expect(upcast).toEqual(new PriceChanged(1999, 'EUR'));
  });

  it('refuses an event stored under a newer schema version than the class knows', async () => {
    const { entityId } = await opened.store.create({
      entityType: 'Product',
      events: [
        { eventType: 'ProductListed', eventData: { name: 'kettle' } },
        { eventType: 'PriceChanged', eventData: { amount: { cents: 5 } }, metadata: { schemaVersion: 3 } },
      ],
    });
    await expect(products.find(entityId)).rejects.toBeInstanceOf(EventDeserializationError);
    await expect(products.find(entityId)).rejects.toThrow(
      "event 'PriceChanged' was stored under schema version 3, newer than class PriceChanged's schemaVersion 2",
    );
  });
});

describe('upcastEventData', () => {
  it('runs the upcasters from the stored version up to the current one, in order', () => {
    expect(upcastEventData('StockCounted', { count: 4 }, 1)).toEqual({ quantity: 4, warehouse: 'main' });
    expect(upcastEventData('StockCounted', { quantity: 4 }, 2)).toEqual({ quantity: 4, warehouse: 'main' });
    expect(upcastEventData('StockCounted', { quantity: 4, warehouse: 'east' }, 3)).toEqual({ quantity: 4, warehouse: 'east' });
    const counted = deserializeStoredEvent({ eventType: 'StockCounted', eventData: { count: 2 }, metadata: {} });
    expect(counted).toEqual(new StockCounted(2, 'main'));
  });

  it('names the type it does not know', () => {
    expect(() => upcastEventData('Unheard', {}, 1)).toThrow("no class is registered with @DomainEvent('Unheard')");
  });
});
