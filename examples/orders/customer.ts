import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';

/** Amounts are integers in cents, so sums are exact. */
export type Cents = number;

export class CreateCustomer {
  constructor(
    public name: string,
    public creditLimit: Cents,
  ) {}
}
export class ReserveCredit {
  constructor(
    public orderId: string,
    public amount: Cents,
  ) {}
}
export class ReleaseCredit {
  constructor(public orderId: string) {}
}

@DomainEvent('CustomerCreated')
export class CustomerCreated {
  constructor(
    public name: string,
    public creditLimit: Cents,
  ) {}
}
@DomainEvent('CustomerCreditReserved')
export class CustomerCreditReserved {
  constructor(
    public orderId: string,
    public amount: Cents,
  ) {}
}
/** A refusal is an event of the customer's: the saga declares it as the step's failure. */
@DomainEvent('CustomerCreditLimitExceeded')
export class CustomerCreditLimitExceeded {
  constructor(
    public orderId: string,
    public amount: Cents,
    public available: Cents,
  ) {}
}
@DomainEvent('CustomerCreditReleased')
export class CustomerCreditReleased {
  constructor(
    public orderId: string,
    public amount: Cents,
  ) {}
}

/** The customer service's aggregate: a credit limit and the credit each order holds. */
@Aggregate('Customer')
export class Customer {
  name = '';
  creditLimit: Cents = 0;
  reservations: Record<string, Cents> = {};

  get available(): Cents {
    return this.creditLimit - Object.values(this.reservations).reduce((sum, amount) => sum + amount, 0);
  }

  @Process()
  create(command: CreateCustomer) {
    if (!Number.isSafeInteger(command.creditLimit) || command.creditLimit < 0) throw new RangeError(`a credit limit is a whole number of cents ≥ 0, not ${command.creditLimit}`);
    return new CustomerCreated(command.name, command.creditLimit);
  }

  @Process()
  reserve(command: ReserveCredit) {
    if (command.amount > this.available) return new CustomerCreditLimitExceeded(command.orderId, command.amount, this.available);
    return new CustomerCreditReserved(command.orderId, command.amount);
  }

  @Process()
  release(command: ReleaseCredit) {
    return new CustomerCreditReleased(command.orderId, this.reservations[command.orderId] ?? 0);
  }

  @Apply()
  created(event: CustomerCreated) {
    this.name = event.name;
    this.creditLimit = event.creditLimit;
  }

  @Apply()
  reserved(event: CustomerCreditReserved) {
    this.reservations[event.orderId] = event.amount;
  }

  @Apply()
  limitExceeded(_event: CustomerCreditLimitExceeded) {
    // Nothing is held; the event is the saga's answer.
  }

  @Apply()
  released(event: CustomerCreditReleased) {
    delete this.reservations[event.orderId];
  }
}
