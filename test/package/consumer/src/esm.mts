/** The same entry points from an ES module: Node must find their named exports in the CommonJS build. */
import { InMemoryEventStore } from 'eventuate-local-ts';
import { AggregateRepository, DomainEvent, SubscriptionManager } from 'eventuate-local-ts/client';
import { aggregateFixture } from 'eventuate-local-ts/testing';

const exported = { InMemoryEventStore, AggregateRepository, DomainEvent, SubscriptionManager, aggregateFixture };
console.log(`from an ES module: ${Object.entries(exported).map(([name, value]) => `${name} is a ${typeof value}`).join(', ')}`);
