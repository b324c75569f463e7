import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';
import type { Cents } from './customer';

export type OrderState = 'PENDING' | 'APPROVED' | 'REJECTED';

export class CreateOrder {
  constructor(
    public customerId: string,
    public total: Cents,
  ) {}
}
export class ApproveOrder {}
export class RejectOrder {
  constructor(public reason: string) {}
}

@DomainEvent('OrderCreated')
export class OrderCreated {
  constructor(
    public customerId: string,
    public total: Cents,
  ) {}
}
@DomainEvent('OrderApproved')
export class OrderApproved {}
@DomainEvent('OrderRejected')
export class OrderRejected {
  constructor(public reason: string) {}
}

/** The order service's aggregate: created pending, then approved or rejected by the saga. */
@Aggregate('Order')
export class Order {
  customerId = '';
  total: Cents = 0;
  state: OrderState = 'PENDING';
  rejectionReason?: string;

  @Process()
  create(command: CreateOrder) {
    if (!Number.isSafeInteger(command.total) || command.total < 1) throw new RangeError(`an order's total is a whole number of cents ≥ 1, not ${command.total}`);
    return new OrderCreated(command.customerId, command.total);
  }

  @Process()
  approve(_command: ApproveOrder) {
    if (this.state !== 'PENDING') throw new Error(`order is ${this.state.toLowerCase()}, so it cannot be approved`);
    return new OrderApproved();
  }

  /** Idempotent: the saga's rolled-back hook runs at least once. */
  @Process()
  reject(command: RejectOrder) {
    if (this.state === 'REJECTED') return [];
    if (this.state !== 'PENDING') throw new Error(`order is ${this.state.toLowerCase()}, so it cannot be rejected`);
    return new OrderRejected(command.reason);
  }

  @Apply()
  created(event: OrderCreated) {
    this.customerId = event.customerId;
    this.total = event.total;
  }

  @Apply()
  approved(_event: OrderApproved) {
    this.state = 'APPROVED';
  }

  @Apply()
  rejected(event: OrderRejected) {
    this.state = 'REJECTED';
    this.rejectionReason = event.reason;
  }
}
