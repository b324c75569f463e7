// #region saga
import { defineSaga, type AggregateRepository } from 'eventuate-local-ts/client';
// #endregion
import { money } from '../support/table';
import { Customer, CustomerCreditLimitExceeded, CustomerCreditReserved, ReleaseCredit, ReserveCredit, type Cents } from './customer';
import { ApproveOrder, Order, OrderApproved, RejectOrder } from './order';

/** The saga's data, kept as JSON in its events. */
export interface CreateOrderData {
  orderId: string;
  customerId: string;
  total: Cents;
  /** Why the customer refused, recorded from the refusal. */
  refusal?: string;
}

/**
 * The order/credit saga by orchestration: one definition names the steps. The order exists pending
 * before the saga starts; the customer's credit is reserved (or refused); the order is approved.
 * A refusal rolls the saga back, and its hook rejects the order.
 */
export function createOrderSaga(orders: AggregateRepository<Order>) {
  // #region saga
  return defineSaga<CreateOrderData>('CreateOrderSaga')
    .step('reserveCredit')
    .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.total) })
    .onSuccess(CustomerCreditReserved)
    .onFailure(CustomerCreditLimitExceeded, (d, refused) => {
      d.refusal = `credit limit exceeded: ${money(refused.available)} available`;
    })
    .withCompensation((d) => new ReleaseCredit(d.orderId))
    .step('approveOrder')
    .invokeParticipant(Order, { entityId: (d) => d.orderId, command: () => new ApproveOrder() })
    .onSuccess(OrderApproved)
    .onRolledBack(async (d, _sagaId, { reason }) => {
      await orders.update(d.orderId, new RejectOrder(d.refusal ?? reason)); // idempotent: hooks run at least once
    })
    .build();
  // #endregion
}

