import 'reflect-metadata';
import { aggregateFixture } from '../../client/testing';
import { Aggregate, AggregateRepository, Apply, DomainEvent, InMemoryEventStore, Process, RegistrationError } from '../../client';

/** Runs a class definition and returns the RegistrationError it raised. */
function registrationError(define: () => unknown): RegistrationError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistrationError);
    return error as RegistrationError;
  }
  throw new Error('the class was registered without an error');
}

@DomainEvent('ThingHappened')
class ThingHappened {
  constructor(public what: string) {}
}

class DoThing {}

describe('registration mistakes are found when the class is decorated', () => {
  it('two @Apply methods for one event: names the class, both methods and the event', () => {
    const error = registrationError(() => {
      @Aggregate('TwoApplies')
      class TwoApplies {
        @Apply() first(_event: ThingHappened) {}
        @Apply(ThingHappened) second() {}
      }
      return TwoApplies;
    });
    expect(error.message).toBe("class TwoApplies: methods first and second both @Apply event ThingHappened ('ThingHappened')");
  });

  it('two @Process methods for one command: names the class, both methods and the command', () => {
    const error = registrationError(() => {
      @Aggregate('TwoProcesses')
      class TwoProcesses {
        @Process(DoThing) first() {
          return [];
        }
        @Process() second(_command: DoThing) {
          return [];
        }
      }
      return TwoProcesses;
    });
    expect(error.message).toBe('class TwoProcesses: methods first and second both @Process command DoThing');
  });

  it('an @Apply whose parameter is an interface: names the class, the method and what it found', () => {
    interface Shapeless {
      what: string;
    }
    const error = registrationError(() => {
      @Aggregate('InterfaceParameter')
      class InterfaceParameter {
        @Apply() happened(_event: Shapeless) {}
      }
      return InterfaceParameter;
    });
    expect(error.message).toContain('@Apply() on InterfaceParameter.happened: cannot read the event class (parameter type Object)');
    expect(error.message).toContain('@Apply(EventClass)');
  });

  it('an @Apply without a parameter: names the class and the method', () => {
    const error = registrationError(() => {
      @Aggregate('NoParameter')
      class NoParameter {
        @Apply() happened() {}
      }
      return NoParameter;
    });
    expect(error.message).toContain('@Apply() on NoParameter.happened: cannot read the event class (the method has no parameter)');
  });

  it('an explicit event class that is undefined (a circular import): names the class and the method', () => {
    const error = registrationError(() => {
      @Aggregate('UndefinedClass')
      class UndefinedClass {
        @Apply(undefined as unknown as typeof ThingHappened) happened() {}
      }
      return UndefinedClass;
    });
    expect(error.message).toContain('@Apply() on UndefinedClass.happened: cannot read the event class');
  });

  it('an event class without @DomainEvent: names the class, the method and the event class', () => {
    class NotAnEvent {
      constructor(public what: string) {}
    }
    const error = registrationError(() => {
      @Aggregate('UndecoratedEvent')
      class UndecoratedEvent {
        @Apply() happened(_event: NotAnEvent) {}
      }
      return UndecoratedEvent;
    });
    expect(error.message).toBe('@Apply on UndecoratedEvent.happened: event class NotAnEvent has no @DomainEvent');
  });

  it('two event classes with one type name: names both classes and the type', () => {
    const error = registrationError(() => {
      @DomainEvent('ThingHappened')
      class OtherThingHappened {}
      return OtherThingHappened;
    });
    expect(error.message).toBe(
      "@DomainEvent('ThingHappened') on class OtherThingHappened: event type 'ThingHappened' is already used by class ThingHappened",
    );
  });

  it('two aggregate classes with one entity type: names both classes and the type', () => {
    @Aggregate('Gadget')
    class Gadget {}
    const error = registrationError(() => {
      @Aggregate('Gadget')
      class OtherGadget {}
      return OtherGadget;
    });
    expect(error.message).toBe("@Aggregate('Gadget') on class OtherGadget: entity type 'Gadget' is already used by class Gadget");
    expect(Gadget).toBeDefined();
  });

  it('an invalid type name', () => {
    const error = registrationError(() => {
      @DomainEvent('not a name')
      class BadName {}
      return BadName;
    });
    expect(error.message).toContain("@DomainEvent('not a name') on class BadName: 'not a name' is not a valid event type name");
  });

  it('a schema version without upcasters from every older version', () => {
    const error = registrationError(() => {
      @DomainEvent('Versioned', { schemaVersion: 3, upcasters: { 1: (data) => data } })
      class Versioned {}
      return Versioned;
    });
    expect(error.message).toBe(
      "@DomainEvent('Versioned') on class Versioned: schemaVersion 3 needs an upcaster from version 2 to 3",
    );
  });

  it('a snapshot strategy that is neither { every: N } nor a function', () => {
    const error = registrationError(() => {
      @Aggregate('BadSnapshots', { snapshots: { every: 0 } })
      class BadSnapshots {}
      return BadSnapshots;
    });
    expect(error.message).toContain("@Aggregate('BadSnapshots') on class BadSnapshots: snapshots must be { every: N }");
  });

  it('a class without @Aggregate given to a repository', () => {
    class Plain {}
    expect(() => new AggregateRepository(Plain, new InMemoryEventStore())).toThrow(
      'class Plain is not an aggregate: it has no @Aggregate',
    );
  });

  it('a subclass that re-decorates a method replaces the base declaration instead of clashing', () => {
    class Base {
      log: string[] = [];
      @Apply() happened(event: ThingHappened) {
        this.log.push(`base ${event.what}`);
      }
    }
    @Aggregate('Derived')
    class Derived extends Base {
      @Apply() override happened(event: ThingHappened) {
        this.log.push(`derived ${event.what}`);
      }
      @Process(DoThing) doThing() {
        return [new ThingHappened('now')];
      }
    }
    aggregateFixture(Derived)
      .given(new ThingHappened('before'))
      .when(new DoThing())
      .expectEvents(new ThingHappened('now'))
      .expectState((derived) => expect(derived.log).toEqual(['derived before', 'derived now']));
  });
});
