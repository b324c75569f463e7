import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { feedSource, HttpEventStore, memoryCursorStore, memoryDeadLetters, PostgresEventStore } from 'eventuate-local-ts/client';
import { buildApp } from 'eventuate-local-ts/server';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { OrderDesk, orderPathsText, ordersTable } from './order-scenario';
import { orderServices, type OrderServices } from './order-services';

const steps = (path: Array<{ step?: string; what: string }>) => path.map((e) => (e.step ? `${e.step}: ${e.what}` : e.what));

describe('orders example: the order/credit saga by orchestration, the services reading the server feed', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let services: OrderServices | undefined;

  beforeAll(async () => {
    db = testDatabase('orders');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    app = buildApp({ store, closeStore: false, defaultMetrics: false });
  });

  afterAll(async () => {
    for (const manager of services?.managers ?? []) await manager.stop();
    app.server.closeAllConnections();
    await app.close();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(60_000);

  it('approves an order within the credit limit and rejects one beyond it, releasing nothing it never held', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const http = new HttpEventStore({ url });
    const source = () => feedSource({ url, cursorStore: memoryCursorStore(), waitMs: 1000 });
    services = orderServices({ store: http, sources: { orderService: source(), customerService: source() }, deadLetters: memoryDeadLetters(), logger: pino({ level: 'silent' }) });
    for (const manager of services.managers) await manager.start();
    const desk = new OrderDesk(http, services);

    const ann = await desk.customer('Ann', 100_00);
    const approved = await desk.place(ann, 60_00, 30_000);
    const refused = await desk.place(ann, 50_00, 30_000);
    const second = await desk.place(ann, 40_00, 30_000);

    expect(approved.state).toBe('APPROVED');
    expect(steps(approved.path)).toEqual([
      'started',
      'reserveCredit: action sent',
      'reserveCredit: succeeded',
      'approveOrder: action sent',
      'approveOrder: succeeded',
      'completed',
    ]);
    expect(refused).toMatchObject({ state: 'REJECTED', rejectionReason: 'credit limit exceeded: 40.00 available' });
    // The first step failed: there is nothing before it to compensate.
    expect(steps(refused.path)).toEqual(['started', 'reserveCredit: action sent', 'reserveCredit: failed', 'reserveCredit: rolled back']);
    expect(refused.path[2]).toMatchObject({ participant: { entityType: 'Customer', entityId: ann.customerId }, detail: "Customer answered 'CustomerCreditLimitExceeded'" });
    expect(refused.path[2].tookMs).toBeGreaterThanOrEqual(0);
    expect(second.state).toBe('APPROVED');

    const { entity: customer } = await services.customers.find(ann.customerId);
    expect(customer.reservations).toEqual({ [approved.orderId]: 60_00, [second.orderId]: 40_00 });

    const printed = `${ordersTable([approved, refused, second])}\n\n${orderPathsText([approved, refused, second])}`;
    expect(printed).toContain('rejected: credit limit exceeded: 40.00 available');
    expect(printed).toMatch(/\n {0,2}3 +\d+ +reserveCredit +succeeded +Customer +\d+ ms +CustomerCreditReserved\n/);
  });
});
