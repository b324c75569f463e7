import { AssertionError } from 'node:assert';
import { isDeepStrictEqual, inspect } from 'node:util';
import type { StoredEvent } from '../src/model';
import { applyNewEvents, applyStoredEvents, processCommand } from './aggregate-runtime';
import { aggregateModelOf, type AggregateClass, type AggregateModel } from './decorators/aggregate-registry';
import { describeClass } from './registration-error';
import { requireRoundTrip, serializeEvent, toJsonObject } from './serialization';

/**
 * Given events, when a command, expect events or an error: an aggregate's behaviour tested
 * without any store. Given events pass through serialization as stored events would.
 */
export function aggregateFixture<A>(aggregateClass: AggregateClass<A>): AggregateFixture<A> {
  return new AggregateFixture(aggregateModelOf(aggregateClass));
}

export class AggregateFixture<A> {
  private readonly history: object[] = [];

  constructor(private readonly model: AggregateModel<A>) {}

  given(...events: object[]): this {
    this.history.push(...events);
    return this;
  }

  when(command: object): AggregateFixtureResult<A> {
    const entity = new this.model.aggregateClass();
    applyStoredEvents(this.model, entity, this.history.map(asStoredEvent));
    try {
      const events = processCommand(this.model, entity, command);
      for (const event of events) requireRoundTrip(event);
      applyNewEvents(this.model, entity, events);
      return new AggregateFixtureResult(entity, events, undefined, false);
    } catch (error) {
      return new AggregateFixtureResult(entity, [], error, true);
    }
  }
}

type ErrorClass = abstract new (...args: any[]) => unknown;

export class AggregateFixtureResult<A> {
  constructor(
    /** The state after the new events were applied (after the given events when the command failed). */
    readonly state: A,
    /** The events the command returned. */
    readonly events: readonly object[],
    readonly error: unknown,
    private readonly failed: boolean,
  ) {}

  /** The command returned exactly these events: same classes, same serialized data, same order. */
  expectEvents(...expected: object[]): this {
    this.requireSuccess('expected events');
    const actual = this.events.map(describeEvent);
    const wanted = expected.map(describeEvent);
    if (!isDeepStrictEqual(actual, wanted)) {
      fail(`expected events ${inspect(wanted, { depth: 8 })}\nbut got ${inspect(actual, { depth: 8 })}`, wanted, actual);
    }
    return this;
  }

  expectNoEvents(): this {
    return this.expectEvents();
  }

  /** The command threw: an instance of the class, or an error whose message contains the text or matches the pattern. */
  expectError(expected: ErrorClass | string | RegExp, messagePart?: string | RegExp): this {
    if (!this.failed) {
      fail(`expected an error but the command returned ${inspect(this.events.map(describeEvent), { depth: 8 })}`, expected, this.events);
    }
    const message = this.error instanceof Error ? this.error.message : String(this.error);
    if (typeof expected === 'function' && !(this.error instanceof expected)) {
      fail(`expected ${describeClass(expected)} but the command threw ${inspect(this.error)}`, expected, this.error);
    }
    for (const part of typeof expected === 'function' ? [messagePart] : [expected]) {
      if (part === undefined) continue;
      const matches = typeof part === 'string' ? message.includes(part) : part.test(message);
      if (!matches) fail(`expected an error message matching ${inspect(part)} but it was ${inspect(message)}`, part, message);
    }
    return this;
  }

  /** Checks the state after the command; `check` throws (an expect) or returns false to fail. */
  expectState(check: (entity: A) => unknown): this {
    this.requireSuccess('a state check');
    if (check(this.state) === false) fail(`the state check failed for ${inspect(this.state, { depth: 8 })}`, true, false);
    return this;
  }

  private requireSuccess(what: string): void {
    if (this.failed) fail(`${what}, but the command threw ${inspect(this.error)}`, what, this.error);
  }
}

function asStoredEvent(event: object, index: number): StoredEvent {
  const serialized = serializeEvent(event);
  requireRoundTrip(event, serialized);
  const { eventType, eventData, schemaVersion } = serialized;
  return {
    eventId: `given-${index + 1}`,
    entityType: 'fixture',
    entityId: 'fixture',
    entityVersion: index + 1,
    eventType,
    eventData,
    metadata: { schemaVersion },
    createdAt: new Date(0).toISOString(),
  };
}

function describeEvent(event: object): { type: string; data: unknown } {
  if (event === null || typeof event !== 'object') return { type: String(event), data: event };
  return { type: describeClass(event.constructor), data: toJsonObject(event) };
}

function fail(message: string, expected: unknown, actual: unknown): never {
  throw new AssertionError({ message, expected, actual });
}

export { sagaFixture, SagaFixture } from './sagas/saga-fixture';
export type { SentSagaCommand } from './sagas/saga-fixture';
