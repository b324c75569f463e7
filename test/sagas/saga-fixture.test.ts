import { DeadlineCancelled, DeadlineScheduled, RegistrationError, defineSaga } from '../../client';
import { sagaFixture } from '../../client/testing';
import {
  CancelDelivery,
  CourierNoted,
  CreditLimitExceeded,
  CreditReleased,
  CreditReserved,
  Courier,
  Customer,
  DeliveryRefused,
  DeliveryCancelled,
  DeliveryScheduled,
  ReleaseCredit,
  ReleaseStock,
  ReserveCredit,
  ReserveStock,
  ScheduleDelivery,
  StockReleased,
  StockReserved,
  StockAdded,
  Warehouse,
  orderSaga,
  patientOrderSaga,
  timedOrderSaga,
  type OrderData,
} from './order-saga-domain';

const data: OrderData = { orderId: 'o-1', customerId: 'c-1', warehouseId: 'w-1', courierId: 'k-1', amount: 50, quantity: 2, delivery: true };
const order = (overrides: Partial<OrderData> = {}) => sagaFixture(orderSaga).start({ ...data, ...overrides });

describe('saga fixture: the saga decisions in memory', () => {
  it('runs the steps in order, records what the replies say, and completes', () => {
    order()
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .replyWith(new StockReserved('o-1', 2))
      .expectCommand(Courier, 'k-1', new ScheduleDelivery('o-1'))
      .replyWith(new CourierNoted('o-1'), new DeliveryScheduled('o-1', 'slot-7'))
      .expectNoMoreCommands()
      .expectCompleted()
      .expectData((d) => expect(d).toMatchObject({ creditReserved: 50, slot: 'slot-7' }));
  });

  it('skips a step whose condition is false, and completes without it', () => {
    const run = order({ delivery: false })
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .replyWith(new StockReserved('o-1', 2))
      .expectNoMoreCommands()
      .expectCompleted();
    expect(run.events.map((e) => e.constructor.name)).toEqual([
      'SagaStarted', 'SagaStepRequested', 'SagaStepSucceeded', 'SagaStepRequested', 'SagaStepSucceeded', 'SagaStepSkipped', 'SagaCompleted',
    ]);
  });

  it('a failure at the first step rolls back with nothing to compensate', () => {
    order()
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditLimitExceeded('o-1', 50, 20))
      .expectNoMoreCommands()
      .expectRolledBack('reserveCredit', "answered 'CreditLimitExceeded'")
      .expectData((d) => expect(d.refusal).toBe('only 20 available'));
  });

  it('a participant that threw at the second step: the first is compensated', () => {
    order()
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .refuseWith(Object.assign(new Error('2 wanted, 0 in stock'), { name: 'OutOfStockError' }))
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .replyWith(new CreditReleased('o-1', 50))
      .expectNoMoreCommands()
      .expectRolledBack('reserveStock', 'OutOfStockError: 2 wanted, 0 in stock');
  });

  it('a failure at the third step compensates the second, then the first', () => {
    // #region fixture
    sagaFixture(orderSaga)
      .start({ orderId: 'o-1', customerId: 'c-1', warehouseId: 'w-1', courierId: 'k-1', amount: 50, quantity: 2, delivery: true })
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .replyWith(new StockReserved('o-1', 2))
      .expectCommand(Courier, 'k-1', new ScheduleDelivery('o-1'))
      .replyWith(new DeliveryRefused('o-1'))
      .expectCompensation(Warehouse, 'w-1', new ReleaseStock('o-1'))
      .replyWith(new StockReleased('o-1', 2))
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .replyWith(new CreditReleased('o-1', 50))
      .expectNoMoreCommands()
      .expectRolledBack('scheduleDelivery');
    // #endregion
  });

  it('a compensation that keeps failing is sent again, then the saga is marked failed', () => {
    order()
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .refuseWith('out of stock')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .expectNoMoreCommands()
      .expectFailed('reserveCredit', /compensation of step 'reserveCredit' failed 3 times; last: Error: customer is frozen/);
  });

  it('with compensationBackoff, a refused compensation waits (doubling, capped) before it is sent again, then the saga is marked failed', () => {
    const run = sagaFixture(patientOrderSaga)
      .start(data)
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .refuseWith('out of stock')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .advanceTime(999)
      .expectNoMoreCommands()
      .expectStatus('compensating')
      .advanceTime(1)
      .expectDeadlineFired('reserveCredit')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .advanceTime(1499) // 2 x 1000 ms, capped at maxMs 1500
      .expectNoMoreCommands()
      .advanceTime(1)
      .expectDeadlineFired('reserveCredit')
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .refuseWith('customer is frozen')
      .advanceTime(60_000)
      .expectNoDeadlineFired()
      .expectNoMoreCommands()
      .expectFailed('reserveCredit', /compensation of step 'reserveCredit' failed 3 times; last: Error: customer is frozen/);
    const waits = run.events.filter((e): e is DeadlineScheduled => e instanceof DeadlineScheduled).map((e) => e.payload);
    expect(waits).toMatchObject([
      { kind: 'compensationRetry', step: 'reserveCredit', attempt: 2, delayMs: 1000 },
      { kind: 'compensationRetry', step: 'reserveCredit', attempt: 3, delayMs: 1500 },
    ]);
  });

  it('with compensationBackoff, a compensation accepted at its second attempt rolls the saga back', () => {
    sagaFixture(patientOrderSaga)
      .start(data)
      .replyWith(new CreditReserved('o-1', 50))
      .refuseWith('out of stock')
      .refuseWith('busy')
      .advanceTime(1000)
      .replyWith(new CreditReleased('o-1', 50))
      .expectRolledBack('reserveStock', /out of stock/);
  });

  it('compensationBackoff is checked when the saga is built', () => {
    const build = (backoff: { baseMs: number; maxMs?: number }) =>
      defineSaga<OrderData>('BadBackoffSaga', { compensationBackoff: backoff })
        .step('reserveCredit')
        .invokeParticipant(Customer, { entityId: (d) => d.customerId, command: (d) => new ReserveCredit(d.orderId, d.amount) })
        .onSuccess(CreditReserved)
        .build();
    expect(() => build({ baseMs: 0 })).toThrow(/compensationBackoff needs a positive baseMs/);
    expect(() => build({ baseMs: 100, maxMs: 50 })).toThrow(/maxMs at least as large/);
  });

  it('a compensation that fails once and then succeeds still rolls back', () => {
    order()
      .replyWith(new CreditReserved('o-1', 50))
      .refuseWith('out of stock')
      .refuseWith('busy')
      .replyWith(new CreditReleased('o-1', 50))
      .expectRolledBack('reserveStock');
  });

  it('an answer of only undeclared events fails the step (an undeclared event before a declared one waits for it: the happy path)', () => {
    const run = order()
      .replyWith(new CreditReserved('o-1', 50))
      .replyWith(new StockReserved('o-1', 2))
      .replyWith(new CourierNoted('o-1'))
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .expectCommand(Courier, 'k-1', new ScheduleDelivery('o-1'))
      .expectCompensation(Warehouse, 'w-1', new ReleaseStock('o-1'))
      .expectStatus('compensating');
    expect(run.events.at(-2)).toMatchObject({ step: 'scheduleDelivery', reason: expect.stringContaining("answered with 'CourierNoted', which step 'scheduleDelivery' declares neither") });
  });

  it('a reply to no pending command is refused by the fixture, and a reply of another step decides nothing', () => {
    const done = order({ delivery: false }).replyWith(new CreditReserved('o-1', 50)).replyWith(new StockReserved('o-1', 2)).expectCompleted();
    expect(() => done.replyWith(new StockReserved('o-1', 2))).toThrow(/waits on none \(it is completed/);
    // StockReserved answers the credit step's command: neither declared there, and not alone.
    const waiting = order().replyWith(new StockReserved('o-1', 2), new CreditReserved('o-1', 50));
    waiting.expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50)).expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2));
  });

  it('an expectation that does not hold fails with what was sent', () => {
    expect(() => order().expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 51))).toThrow(/but the saga sent/);
    expect(() => order().expectCompensation(Customer, 'c-1', new ReserveCredit('o-1', 50))).toThrow(/kind: 'action'/);
    expect(() => order().expectCompleted()).toThrow(/expected the saga completed but it is running/);
  });

  it('a definition that throws for the data at the start throws to the caller; later it fails the step and compensates', () => {
    const fragile = defineSaga<{ id: string; later?: string }>('FragileSaga')
      .step('first')
      .invokeParticipant(Customer, { entityId: (d) => d.id, command: (d) => new ReserveCredit(d.id, 1) })
      .onSuccess(CreditReserved)
      .withCompensation((d) => new ReleaseCredit(d.id))
      .step('second')
      .invokeParticipant(Warehouse, { entityId: (d) => d.later!.toUpperCase(), command: (d) => new ReserveStock(d.id, 1) })
      .onSuccess(StockReserved)
      .build();
    expect(() => sagaFixture(fragile).start({ id: '' })).toThrow(/entityId gave ""/);
    sagaFixture(fragile)
      .start({ id: 'x' })
      .replyWith(new CreditReserved('x', 1))
      .expectCommand(Customer, 'x', new ReserveCredit('x', 1))
      .expectCompensation(Customer, 'x', new ReleaseCredit('x'))
      .replyWith(new CreditReleased('x', 1))
      .expectRolledBack('second', /definition threw for step 'second': TypeError/);
    expect(() => sagaFixture(fragile).start({ id: 'x', later: new Date() as unknown as string })).toThrow(/must be plain JSON/);
  });

  it('refuses definitions that could not run, when they are built', () => {
    expect(() => defineSaga('Bad Name').step('a').invokeParticipant(Customer, { entityId: () => 'c', command: () => new ReleaseCredit('o') }).onSuccess(CreditReleased).build()).toThrow(RegistrationError);
    expect(() => defineSaga('NoSteps').build()).toThrow(/has no steps/);
    expect(() => defineSaga('NoReply').step('a').invokeParticipant(Customer, { entityId: () => 'c', command: () => new ReleaseCredit('o') }).build()).toThrow(/onSuccess/);
    expect(() => defineSaga('NoParticipant').step('a').onSuccess(CreditReleased).build()).toThrow(/invokeParticipant/);
    expect(() =>
      defineSaga('Twice')
        .step('a').invokeParticipant(Customer, { entityId: () => 'c', command: () => new ReleaseCredit('o') }).onSuccess(CreditReleased)
        .step('a').invokeParticipant(Customer, { entityId: () => 'c', command: () => new ReleaseCredit('o') }).onSuccess(CreditReleased)
        .build(),
    ).toThrow(/two steps have this name/);
    expect(() => defineSaga('Never').step('a').invokeParticipant(Customer, { entityId: () => 'c', command: () => new ReleaseCredit('o') }).onSuccess(StockAdded)).toThrow(
      /Customer never emits 'StockAdded'/,
    );
  });
});

describe('sagaFixture: time passes', () => {
  const data = { orderId: 'o-1', customerId: 'c-1', warehouseId: 'w-1', courierId: 'k-1', amount: 50, quantity: 2, delivery: true };
  const atDelivery = () =>
    sagaFixture(timedOrderSaga)
      .start(data)
      .expectCommand(Customer, 'c-1', new ReserveCredit('o-1', 50))
      .replyWith(new CreditReserved('o-1', 50))
      .advanceTime(10_000) // the steps before have no deadline
      .expectCommand(Warehouse, 'w-1', new ReserveStock('o-1', 2))
      .replyWith(new StockReserved('o-1', 2))
      .expectCommand(Courier, 'k-1', new ScheduleDelivery('o-1'));

  it('a step with no answer by its deadline fails and is compensated first, then the steps before in reverse order', () => {
    // #region deadline-fixture
    atDelivery()
      .advanceTime(799)
      .expectNoDeadlineFired()
      .advanceTime(1)
      .expectDeadlineFired('scheduleDelivery')
      .expectCompensation(Courier, 'k-1', new CancelDelivery('o-1')) // its action may yet arrive: undo it, or refuse it
      .replyWith(new DeliveryCancelled('o-1'))
      .expectCompensation(Warehouse, 'w-1', new ReleaseStock('o-1'))
      .replyWith(new StockReleased('o-1', 2))
      .expectCompensation(Customer, 'c-1', new ReleaseCredit('o-1'))
      .replyWith(new CreditReleased('o-1', 50))
      .expectNoMoreCommands()
      .expectRolledBack('scheduleDelivery', /did not answer step 'scheduleDelivery' by its deadline/);
    // #endregion
  });

  it('an answer in time cancels the deadline, which then never fires', () => {
    const fixture = atDelivery().advanceTime(700).replyWith(new DeliveryScheduled('o-1', 'slot-1')).advanceTime(60_000).expectNoDeadlineFired().expectCompleted();
    expect(fixture.events.filter((e) => e instanceof DeadlineCancelled)).toHaveLength(1);
  });

  it('an answer after the deadline decides nothing: the step was already failed and its compensation sent', () => {
    atDelivery()
      .advanceTime(800)
      .expectDeadlineFired('scheduleDelivery')
      .expectCompensation(Courier, 'k-1', new CancelDelivery('o-1'))
      .replyWith(new DeliveryCancelled('o-1'))
      .expectCompensation(Warehouse, 'w-1', new ReleaseStock('o-1'))
      .expectStatus('compensating');
  });

  it('refuses a deadline on a step with no compensation, whose late success could not be undone', () => {
    expect(() =>
      defineSaga<{ id: string }>('NoUndo')
        .step('only')
        .invokeParticipant(Courier, { entityId: (d) => d.id, command: (d) => new ScheduleDelivery(d.id) })
        .onSuccess(DeliveryScheduled)
        .withDeadline(100)
        .build(),
    ).toThrow(/a step with a deadline needs \.withCompensation/);
  });
});
