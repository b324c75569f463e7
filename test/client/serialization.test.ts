import 'reflect-metadata';
import {
  DomainEvent,
  RegistrationError,
  Type,
  deserializeEvent,
  deserializeStoredEvent,
  eventClassFor,
  eventTypeOf,
  fromJsonObject,
  serializeEvent,
  toJsonObject,
} from '../../client';
import { Account, AccountCredited, AccountOpened, OpenAccount } from './domain/banking';

class Money {
  constructor(
    public amount: number,
    public currency: string,
  ) {}

  format(): string {
    return `${this.amount} ${this.currency}`;
  }
}

class Line {
  @Type(() => Money) price!: Money;
  @Type(() => Date) deliveredAt!: Date;

  constructor(price: Money, deliveredAt: Date) {
    this.price = price;
    this.deliveredAt = deliveredAt;
  }
}

@DomainEvent('InvoiceIssued')
class InvoiceIssued {
  @Type(() => Date) issuedAt!: Date;
  @Type(() => Money) total!: Money;
  @Type(() => Line) lines!: Line[];
  tags!: string[];

  constructor(issuedAt: Date, total: Money, lines: Line[], tags: string[]) {
    Object.assign(this, { issuedAt, total, lines, tags });
  }
}

class PlaceOrder {
  @Type(() => Line) lines!: Line[];
  constructor(lines: Line[]) {
    this.lines = lines;
  }
}

const invoice = new InvoiceIssued(
  new Date('2024-05-06T07:08:09.123Z'),
  new Money(30, 'EUR'),
  [new Line(new Money(10, 'EUR'), new Date('2024-05-01T00:00:00.000Z')), new Line(new Money(20, 'EUR'), new Date('2024-05-02T00:00:00.000Z'))],
  ['a', 'b'],
);

describe('serialization', () => {
  it('writes an event as plain JSON (Dates as ISO strings) under its @DomainEvent name and schema version', () => {
    const serialized = serializeEvent(invoice);
    expect(serialized).toEqual({
      eventType: 'InvoiceIssued',
      schemaVersion: 1,
      eventData: {
        issuedAt: '2024-05-06T07:08:09.123Z',
        total: { amount: 30, currency: 'EUR' },
        lines: [
          { price: { amount: 10, currency: 'EUR' }, deliveredAt: '2024-05-01T00:00:00.000Z' },
          { price: { amount: 20, currency: 'EUR' }, deliveredAt: '2024-05-02T00:00:00.000Z' },
        ],
        tags: ['a', 'b'],
      },
    });
    // What a store hands back is JSON text parsed again; nothing may depend on object identity.
    expect(JSON.parse(JSON.stringify(serialized.eventData))).toEqual(serialized.eventData);
  });

  it('reads an event back into real instances: the event, a Date, a nested class and an array of nested classes', () => {
    const { eventType, eventData } = serializeEvent(invoice);
    const restored = deserializeEvent(eventType, JSON.parse(JSON.stringify(eventData))) as InvoiceIssued;

    expect(restored).toBeInstanceOf(InvoiceIssued);
    expect(restored.issuedAt).toBeInstanceOf(Date);
    expect(restored.issuedAt.toISOString()).toBe('2024-05-06T07:08:09.123Z');
    expect(restored.total).toBeInstanceOf(Money);
    expect(restored.total.format()).toBe('30 EUR');
    expect(restored.lines).toHaveLength(2);
    for (const line of restored.lines) {
      expect(line).toBeInstanceOf(Line);
      expect(line.price).toBeInstanceOf(Money);
      expect(line.deliveredAt).toBeInstanceOf(Date);
    }
    expect(restored.lines[1].price.format()).toBe('20 EUR');
    expect(restored).toEqual(invoice);
  });

  it('reads a stored event with its metadata', () => {
    const { eventType, eventData } = serializeEvent(new AccountCredited(5, 't1'));
    const restored = deserializeStoredEvent({ eventType, eventData, metadata: { schemaVersion: 1 } });
    expect(restored).toEqual(new AccountCredited(5, 't1'));
    expect(restored).toBeInstanceOf(AccountCredited);
  });

  it('round-trips commands', () => {
    const command = new PlaceOrder(invoice.lines);
    const restored = fromJsonObject(PlaceOrder, JSON.parse(JSON.stringify(toJsonObject(command))));
    expect(restored).toBeInstanceOf(PlaceOrder);
    expect(restored.lines[0]).toBeInstanceOf(Line);
    expect(restored.lines[0].deliveredAt).toBeInstanceOf(Date);
    expect(restored).toEqual(command);
    expect(fromJsonObject(OpenAccount, toJsonObject(new OpenAccount(3, 'ann')))).toEqual(new OpenAccount(3, 'ann'));
  });

  it('round-trips an aggregate as its default snapshot', () => {
    const account = new Account();
    account.opened(new AccountOpened(10, 'ann', new Date('2024-01-01T00:00:00.000Z')));
    account.credited(new AccountCredited(5, 't1'));
    const restored = fromJsonObject(Account, JSON.parse(JSON.stringify(toJsonObject(account))));
    expect(restored).toBeInstanceOf(Account);
    expect(restored).toEqual(account);
  });

  it('looks event classes up by type name and type names up by class', () => {
    expect(eventTypeOf(InvoiceIssued)).toBe('InvoiceIssued');
    expect(eventClassFor('InvoiceIssued')).toBe(InvoiceIssued);
    expect(() => eventClassFor('NoSuchEvent')).toThrow("no class is registered with @DomainEvent('NoSuchEvent')");
    expect(() => eventTypeOf(Money)).toThrow(RegistrationError);
  });

  it('refuses to serialize an instance of a class without @DomainEvent, naming the class', () => {
    expect(() => serializeEvent(new Money(1, 'EUR'))).toThrow('cannot serialize an instance of Money as an event: its class has no @DomainEvent');
  });
});
