import 'reflect-metadata';
import { Aggregate, Apply, DomainEvent, Process, defineSaga } from '../../client';

// Three participants of an order: the customer's credit, the warehouse's stock, the courier.

export class OpenCustomer {
  constructor(public creditLimit: number) {}
}
export class ReserveCredit {
  constructor(
    public orderId: string,
    public amount: number,
  ) {}
}
export class ReleaseCredit {
  constructor(public orderId: string) {}
}
/** A frozen customer's credit cannot be released: the compensation that fails. */
export class FreezeCustomer {}

@DomainEvent('CustomerOpened')
export class CustomerOpened {
  constructor(public creditLimit: number) {}
}
@DomainEvent('CreditReserved')
export class CreditReserved {
  constructor(
    public orderId: string,
    public amount: number,
  ) {}
}
@DomainEvent('CreditLimitExceeded')
export class CreditLimitExceeded {
  constructor(
    public orderId: string,
    public amount: number,
    public available: number,
  ) {}
}
@DomainEvent('CreditReleased')
export class CreditReleased {
  constructor(
    public orderId: string,
    public amount: number,
  ) {}
}
@DomainEvent('CustomerFrozen')
export class CustomerFrozen {}

@Aggregate('SagaCustomer')
export class Customer {
  creditLimit = 0;
  frozen = false;
  reservations: Record<string, number> = {};

  get available(): number {
    return this.creditLimit - Object.values(this.reservations).reduce((sum, amount) => sum + amount, 0);
  }

  @Process()
  open(command: OpenCustomer) {
    return new CustomerOpened(command.creditLimit);
  }

  @Process()
  reserve(command: ReserveCredit) {
    if (command.amount > this.available) return new CreditLimitExceeded(command.orderId, command.amount, this.available);
    return new CreditReserved(command.orderId, command.amount);
  }

  @Process()
  release(command: ReleaseCredit) {
    if (this.frozen) throw new Error(`customer is frozen: credit of order ${command.orderId} stays reserved`);
    return new CreditReleased(command.orderId, this.reservations[command.orderId] ?? 0);
  }

  @Process()
  freeze(_command: FreezeCustomer) {
    return new CustomerFrozen();
  }

  @Apply()
  opened(event: CustomerOpened) {
    this.creditLimit = event.creditLimit;
  }

  @Apply()
  reserved(event: CreditReserved) {
    this.reservations[event.orderId] = event.amount;
  }

  @Apply()
  limitExceeded(_event: CreditLimitExceeded) {}

  @Apply()
  released(event: CreditReleased) {
    delete this.reservations[event.orderId];
  }

  @Apply()
  frozenNow(_event: CustomerFrozen) {
    this.frozen = true;
  }
}

export class AddStock {
  constructor(public quantity: number) {}
}
export class ReserveStock {
  constructor(
    public orderId: string,
    public quantity: number,
  ) {}
}
export class ReleaseStock {
  constructor(public orderId: string) {}
}

/** Thrown by the warehouse's @Process: the participant answers it as a failure. */
export class OutOfStockError extends Error {
  override name = 'OutOfStockError';
}

@DomainEvent('StockAdded')
export class StockAdded {
  constructor(public quantity: number) {}
}
@DomainEvent('StockReserved')
export class StockReserved {
  constructor(
    public orderId: string,
    public quantity: number,
  ) {}
}
@DomainEvent('StockReleased')
export class StockReleased {
  constructor(
    public orderId: string,
    public quantity: number,
  ) {}
}

@Aggregate('SagaWarehouse')
export class Warehouse {
  stock = 0;
  reservations: Record<string, number> = {};

  @Process()
  add(command: AddStock) {
    return new StockAdded(command.quantity);
  }

  @Process()
  reserve(command: ReserveStock) {
    if (command.quantity > this.stock) throw new OutOfStockError(`${command.quantity} wanted, ${this.stock} in stock`);
    return new StockReserved(command.orderId, command.quantity);
  }

  @Process()
  release(command: ReleaseStock) {
    return new StockReleased(command.orderId, this.reservations[command.orderId] ?? 0);
  }

  @Apply()
  added(event: StockAdded) {
    this.stock += event.quantity;
  }

  @Apply()
  reserved(event: StockReserved) {
    this.stock -= event.quantity;
    this.reservations[event.orderId] = event.quantity;
  }

  @Apply()
  released(event: StockReleased) {
    this.stock += event.quantity;
    delete this.reservations[event.orderId];
  }
}

export class OpenCourier {
  constructor(public acceptsOrders: boolean) {}
}
export class ScheduleDelivery {
  constructor(public orderId: string) {}
}
export class CancelDelivery {
  constructor(public orderId: string) {}
}

@DomainEvent('CourierOpened')
export class CourierOpened {
  constructor(public acceptsOrders: boolean) {}
}
@DomainEvent('DeliveryScheduled')
export class DeliveryScheduled {
  constructor(
    public orderId: string,
    public slot: string,
  ) {}
}
@DomainEvent('DeliveryRefused')
export class DeliveryRefused {
  constructor(public orderId: string) {}
}
@DomainEvent('DeliveryCancelled')
export class DeliveryCancelled {
  constructor(public orderId: string) {}
}
/** A courier's note that the saga's step does not declare: alone, it is an unrecognised answer. */
@DomainEvent('CourierNoted')
export class CourierNoted {
  constructor(public orderId: string) {}
}

@Aggregate('SagaCourier')
export class Courier {
  acceptsOrders = false;
  deliveries: string[] = [];

  @Process()
  open(command: OpenCourier) {
    return new CourierOpened(command.acceptsOrders);
  }

  @Process()
  schedule(command: ScheduleDelivery) {
    if (!this.acceptsOrders) return new DeliveryRefused(command.orderId);
    // The note comes first: the saga must wait for the declared reply after it.
    return [new CourierNoted(command.orderId), new DeliveryScheduled(command.orderId, `slot-${this.deliveries.length + 1}`)];
  }

  @Process()
  cancel(command: CancelDelivery) {
    return new DeliveryCancelled(command.orderId);
  }

  @Apply()
  cancelled(event: DeliveryCancelled) {
    this.deliveries = this.deliveries.filter((orderId) => orderId !== event.orderId);
  }

  @Apply()
  opened(event: CourierOpened) {
    this.acceptsOrders = event.acceptsOrders;
  }

  @Apply()
  scheduled(event: DeliveryScheduled) {
    this.deliveries.push(event.orderId);
  }

  @Apply()
  refused(_event: DeliveryRefused) {}

  @Apply()
  noted(_event: CourierNoted) {}
}

export interface OrderData {
  orderId: string;
  customerId: string;
  warehouseId: string;
  courierId: string;
  amount: number;
  quantity: number;
  /** False: no delivery step (picked up). */
  delivery: boolean;
  creditReserved?: number;
  slot?: string;
  refusal?: string;
  /** timedOrderSaga: how long the courier has to answer. Default 800 ms. */
  courierDeadlineMs?: number;
}

/** What the saga's hooks heard, in order (tests look up their saga's id). */
export const sagaEndings: Array<{ sagaId: string; ending: 'completed' | 'rolledBack' | 'failed'; step?: string; reason?: string }> = [];

// #region saga
export const orderSaga = defineSaga<OrderData>('PlaceOrderSaga', { compensationAttempts: 3 })
  .step('reserveCredit')
  .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.amount) })
  .onSuccess(CreditReserved, (d, reply) => {
    d.creditReserved = reply.amount;
  })
  .onFailure(CreditLimitExceeded, (d, reply) => {
    d.refusal = `only ${reply.available} available`;
  })
  .withCompensation((d) => new ReleaseCredit(d.orderId))
  .step('reserveStock')
  .invokeParticipant(Warehouse, { entityId: (d) => d.warehouseId, command: (d) => new ReserveStock(d.orderId, d.quantity) })
  .onSuccess(StockReserved)
  .withCompensation((d) => new ReleaseStock(d.orderId))
  .step('scheduleDelivery')
  .when((d) => d.delivery)
  .invokeParticipant(Courier, { entityId: (d) => d.courierId, command: (d) => new ScheduleDelivery(d.orderId) })
  .onSuccess(DeliveryScheduled, (d, reply) => ({ ...d, slot: reply.slot }))
  .onFailure(DeliveryRefused)
  .onCompleted((_d, sagaId) => void sagaEndings.push({ sagaId, ending: 'completed' }))
  .onRolledBack((_d, sagaId, { step, reason }) => void sagaEndings.push({ sagaId, ending: 'rolledBack', step, reason }))
  .onFailed((_d, sagaId, { step, reason }) => void sagaEndings.push({ sagaId, ending: 'failed', step, reason }))
  .build();
// #endregion

/** A timed order saga's events, step by step, when the courier did not answer in time: the step failed by its deadline and compensated first, then the steps before in reverse order. */
export const courierTimedOutTimeline = [
  'SagaStarted',
  'SagaStepRequested(reserveCredit)',
  'SagaStepSucceeded(reserveCredit)',
  'SagaStepRequested(reserveStock)',
  'SagaStepSucceeded(reserveStock)',
  'SagaStepRequested(scheduleDelivery)',
  'DeadlineScheduled',
  'DeadlineFired',
  'SagaStepFailed(scheduleDelivery)',
  'SagaCompensationRequested(scheduleDelivery)',
  'SagaCompensationDone(scheduleDelivery)',
  'SagaCompensationRequested(reserveStock)',
  'SagaCompensationDone(reserveStock)',
  'SagaCompensationRequested(reserveCredit)',
  'SagaCompensationDone(reserveCredit)',
  'SagaRolledBack',
];

/** The order saga with a deadline on the courier's answer (the courier can cancel a delivery it scheduled). */
// #region timed-saga
export const timedOrderSaga = defineSaga<OrderData>('TimedOrderSaga')
  .step('reserveCredit')
  .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.amount) })
  .onSuccess(CreditReserved)
  .withCompensation((d) => new ReleaseCredit(d.orderId))
  .step('reserveStock')
  .invokeParticipant(Warehouse, { entityId: (d) => d.warehouseId, command: (d) => new ReserveStock(d.orderId, d.quantity) })
  .onSuccess(StockReserved)
  .withCompensation((d) => new ReleaseStock(d.orderId))
  .step('scheduleDelivery')
  .invokeParticipant(Courier, { entityId: (d) => d.courierId, command: (d) => new ScheduleDelivery(d.orderId) })
  .onSuccess(DeliveryScheduled)
  .onFailure(DeliveryRefused)
  .withCompensation((d) => new CancelDelivery(d.orderId))
  .withDeadline((d) => d.courierDeadlineMs ?? 800) // the courier has 800 ms (or what the order says) to answer, or the order is rolled back
  .build();
// #endregion

/** The order saga whose refused compensations wait before they are sent again: 1 s, then 1.5 s (doubling, capped). */
// #region patient-saga
export const patientOrderSaga = defineSaga<OrderData>('PatientOrderSaga', { compensationAttempts: 3, compensationBackoff: { baseMs: 1000, maxMs: 1500 } })
  .step('reserveCredit')
  .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.amount) })
  .onSuccess(CreditReserved)
  .onFailure(CreditLimitExceeded)
  .withCompensation((d) => new ReleaseCredit(d.orderId))
  .step('reserveStock')
  .invokeParticipant(Warehouse, { entityId: (d) => d.warehouseId, command: (d) => new ReserveStock(d.orderId, d.quantity) })
  .onSuccess(StockReserved)
  .onFailed((_d, sagaId, { step, reason }) => void sagaEndings.push({ sagaId, ending: 'failed', step, reason }))
  .build();
// #endregion

// A participant whose entity the saga creates: one shipment per order, made by the saga's step.
export class CreateShipment {
  constructor(
    public orderId: string,
    public quantity: number,
  ) {}
}
export class CancelShipment {
  constructor(public orderId: string) {}
}
@DomainEvent('ShipmentCreated')
export class ShipmentCreated {
  constructor(
    public orderId: string,
    public quantity: number,
  ) {}
}
@DomainEvent('ShipmentCancelled')
export class ShipmentCancelled {
  constructor(public orderId: string) {}
}

@Aggregate('SagaShipment')
export class Shipment {
  orderId = '';
  cancelled = false;

  @Process()
  create(command: CreateShipment) {
    if (command.quantity <= 0) throw new Error(`nothing to ship for order ${command.orderId}`);
    return new ShipmentCreated(command.orderId, command.quantity);
  }

  @Process()
  cancel(command: CancelShipment) {
    return new ShipmentCancelled(command.orderId);
  }

  @Apply()
  created(event: ShipmentCreated) {
    this.orderId = event.orderId;
  }

  @Apply()
  cancelledNow(_event: ShipmentCancelled) {
    this.cancelled = true;
  }
}

/** The order saga whose second step creates the order's Shipment (its id derived from the saga's), undone when the stock is refused. */
// #region creating-saga
export const shippedOrderSaga = defineSaga<OrderData>('ShippedOrderSaga')
  .step('reserveCredit')
  .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.amount) })
  .onSuccess(CreditReserved)
  .onFailure(CreditLimitExceeded)
  .withCompensation((d) => new ReleaseCredit(d.orderId))
  .step('createShipment')
  .invokeParticipant(Shipment, { creates: true, command: (d) => new CreateShipment(d.orderId, d.quantity) })
  .onSuccess(ShipmentCreated)
  .withCompensation((d) => new CancelShipment(d.orderId))
  .step('reserveStock')
  .invokeParticipant(Warehouse, { entityId: (d) => d.warehouseId, command: (d) => new ReserveStock(d.orderId, d.quantity) })
  .onSuccess(StockReserved)
  .build();
// #endregion
