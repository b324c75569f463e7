import type { Logger } from 'pino';
// #region wiring
import { AggregateRepository, sagaOrchestrator, sagaParticipant, SubscriptionManager } from 'eventuate-local-ts/client';
// #endregion
import type { DeadLetterStore, EventSource, EventStore, SagaOrchestrator } from 'eventuate-local-ts/client';
import { createOrderSaga, type CreateOrderData } from './create-order-saga';
import { Customer } from './customer';
import { Order } from './order';

export interface OrderServicesOptions {
  store: EventStore;
  /** Each service reads events on its own (a source each): here they share a process, in production they need not. */
  sources: { orderService: EventSource; customerService: EventSource };
  deadLetters: DeadLetterStore;
  logger: Logger;
}

export interface OrderServices {
  orders: AggregateRepository<Order>;
  customers: AggregateRepository<Customer>;
  saga: SagaOrchestrator<CreateOrderData>;
  managers: SubscriptionManager[];
}

/**
 * The two services of the example. The order service runs the saga's orchestrator and answers its
 * commands for orders; the customer service answers for customers and knows the saga by name only.
 */
export function orderServices({ store, sources, deadLetters, logger }: OrderServicesOptions): OrderServices {
  const orders = new AggregateRepository(Order, store);
  const customers = new AggregateRepository(Customer, store);
  // #region wiring
  const saga = sagaOrchestrator(createOrderSaga(orders), store, { logger });
  const orderService = new SubscriptionManager({
    source: sources.orderService,
    deadLetters,
    subscribers: [saga, sagaParticipant(Order, store, { sagas: [saga.definition], logger })],
    logger,
  });
  const customerService = new SubscriptionManager({
    source: sources.customerService,
    deadLetters,
    subscribers: [sagaParticipant(Customer, store, { sagas: ['CreateOrderSaga'], logger })],
    logger,
  });
  // #endregion
  return { orders, customers, saga, managers: [orderService, customerService] };
}
