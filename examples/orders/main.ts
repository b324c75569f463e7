/**
 * npm run example:orders — the order/customer credit saga by orchestration against a running server
 * (EVENTUATE_URL, default http://localhost:8080): both services run here, each with its own source.
 */
import pino from 'pino';
import { HttpEventStore, memoryDeadLetters } from 'eventuate-local-ts/client';
import { exampleSource } from '../support/example-source';
import { eventStoreUrl, runExample } from '../support/run-example';
import { orderPathsText, OrderDesk, ordersTable } from './order-scenario';
import { orderServices } from './order-services';

const TYPES = ['CreateOrderSaga', 'Order', 'Customer'];

runExample(async () => {
  const url = eventStoreUrl();
  const server = { url, apiKey: process.env.EVENTUATE_API_KEY };
  const store = new HttpEventStore(server);
  const orderSource = await exampleSource(server, TYPES);
  const customerSource = await exampleSource(server, TYPES);
  const logger = pino({ level: process.env.LOG_LEVEL || 'warn' });
  // This run's only: a command that cannot be applied parks here and the run times out saying where its saga stands.
  const services = orderServices({ store, sources: { orderService: orderSource, customerService: customerSource }, deadLetters: memoryDeadLetters(), logger });
  try {
    for (const manager of services.managers) await manager.start();
    console.log(`event store: ${url}\nevents from: ${orderSource.description}\n`);
    const desk = new OrderDesk(store, services);
    const ann = await desk.customer('Ann', 100_00);
    const bob = await desk.customer('Bob', 30_00);
    // One after the other, so the credit each refusal quotes is the same on every run.
    const placed = [];
    for (const [customer, total] of [[ann, 60_00], [bob, 45_00], [ann, 50_00], [ann, 40_00]] as const) placed.push(await desk.place(customer, total, 30_000));
    console.log(`${ordersTable(placed)}\n\n${orderPathsText(placed)}`);
  } finally {
    for (const manager of services.managers) await manager.stop();
  }
});
