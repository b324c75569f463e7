import { formatTable, money } from '../support/table';
import { sagaEnded, sagaPath, sagaPathTable } from '../support/saga-path';
import type { EventStore, SagaTimelineEntry } from 'eventuate-local-ts/client';
import { CreateCustomer, type Cents } from './customer';
import { CreateOrder, type OrderState } from './order';
import type { OrderServices } from './order-services';

export interface PlacedOrder {
  orderId: string;
  customer: string;
  total: Cents;
  state: OrderState;
  rejectionReason?: string;
  /** The saga's path, read back from its stream. */
  path: SagaTimelineEntry[];
}

/** What the example's main and its test do: customers, orders, and each order's saga to its end. */
export class OrderDesk {
  constructor(
    private readonly store: EventStore,
    private readonly services: OrderServices,
  ) {}

  async customer(name: string, creditLimit: Cents): Promise<{ customerId: string; name: string }> {
    const { entityId } = await this.services.customers.save(new CreateCustomer(name, creditLimit));
    return { customerId: entityId, name };
  }

  /**
   * Creates the order pending and starts its saga (the saga's id is the order's), then waits until
   * the saga ended and the order is approved or rejected.
   */
  async place(customer: { customerId: string; name: string }, total: Cents, timeoutMs: number): Promise<PlacedOrder> {
    const { orders, saga } = this.services;
    const { entityId: orderId } = await orders.save(new CreateOrder(customer.customerId, total));
    // #region start
    await saga.start({ orderId, customerId: customer.customerId, total }, { sagaId: orderId });
    // #endregion
    await sagaEnded(saga, orderId, timeoutMs);
    // The rejection is the rolled-back hook's, which runs once the saga has ended.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { entity } = await orders.find(orderId);
      if (entity.state !== 'PENDING') {
        const path = await sagaPath(this.store, saga.definition.name, orderId);
        return { orderId, customer: customer.name, total, state: entity.state, rejectionReason: entity.rejectionReason, path };
      }
      if (Date.now() > deadline) throw new Error(`order ${orderId}: its saga ended but the order is still pending after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function ordersTable(placed: PlacedOrder[]): string {
  return formatTable(
    ['#', 'customer', 'total', 'order'],
    placed.map((o, i) => [i + 1, o.customer, money(o.total), o.state === 'REJECTED' ? `rejected: ${o.rejectionReason}` : o.state.toLowerCase()]),
  );
}

export function orderPathsText(placed: PlacedOrder[]): string {
  return placed.map((o, i) => `order ${i + 1} (${o.customer}, ${money(o.total)}): CreateOrderSaga ${o.orderId}\n${sagaPathTable(o.path)}`).join('\n\n');
}
