/**
 * A user's first program, compiled by test/package/consumer.test.ts against the packed package with the
 * README's tsconfig: the tour's API from the package's entry points, and its output checked.
 */
import { InMemoryEventStore } from 'eventuate-local-ts';
import { Aggregate, AggregateRepository, Apply, DomainEvent, Process, defineSaga } from 'eventuate-local-ts/client';
import { aggregateFixture, sagaFixture } from 'eventuate-local-ts/testing';

class OpenTab {
  constructor(
    public table: number,
    public openedAt: Date,
  ) {}
}

class OrderDrink {
  constructor(public drink: string) {}
}

@DomainEvent('TabOpened')
class TabOpened {
  constructor(
    public table: number,
    public openedAt: Date,
  ) {}
}

@DomainEvent('DrinkOrdered')
class DrinkOrdered {
  constructor(public drink: string) {}
}

@Aggregate('Tab')
class Tab {
  table = 0;
  openedAt?: Date;
  drinks: string[] = [];

  @Process()
  open(command: OpenTab) {
    return new TabOpened(command.table, command.openedAt);
  }

  @Process()
  order(command: OrderDrink) {
    if (this.openedAt === undefined) throw new Error('the tab is not open');
    return new DrinkOrdered(command.drink);
  }

  @Apply()
  opened(event: TabOpened) {
    this.table = event.table;
    this.openedAt = event.openedAt;
  }

  @Apply()
  ordered(event: DrinkOrdered) {
    this.drinks.push(event.drink);
  }
}

/** A one-step saga over typed data: the fixture checks the packed saga API compiles and runs. */
const serveTable = defineSaga<{ tabId: string; drink: string; served?: string }>('ServeTableSaga')
  .step('orderDrink')
  .invokeParticipant(Tab, { entityId: (data) => data.tabId, command: (data) => new OrderDrink(data.drink) })
  .onSuccess(DrinkOrdered, (data, reply) => {
    data.served = reply.drink;
  })
  .build();

async function main(): Promise<void> {
  const tabs = new AggregateRepository(Tab, new InMemoryEventStore());
  const { entityId } = await tabs.save(new OpenTab(7, new Date('2026-01-02T03:04:05.006Z')));
  await tabs.update(entityId, new OrderDrink('tea'));
  await tabs.update(entityId, new OrderDrink('coffee'));
  const { entity, entityVersion } = await tabs.find(entityId);
  const openedAt = entity.openedAt instanceof Date ? `the Date ${entity.openedAt.toISOString()}` : `a ${typeof entity.openedAt}`;
  console.log(`tab ${entity.table} at version ${entityVersion}, opened at ${openedAt}, drinks: ${entity.drinks.join(', ')}`);

  aggregateFixture(Tab).given(new TabOpened(7, new Date(0))).when(new OrderDrink('tea')).expectEvents(new DrinkOrdered('tea'));
  aggregateFixture(Tab).when(new OrderDrink('tea')).expectError('the tab is not open');
  console.log('fixture: an open tab takes an order, a tab never opened refuses it');

  const served = sagaFixture(serveTable).start({ tabId: 't-1', drink: 'tea' }).expectCommand(Tab, 't-1', new OrderDrink('tea')).replyWith(new DrinkOrdered('tea')).expectCompleted();
  console.log(`saga fixture: ${served.status}, served ${served.data.served}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
