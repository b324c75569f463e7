import pino from 'pino';
import {
  DomainEvent,
  EventHandlerContext,
  EventHandlerMethod,
  EventSubscriber,
  InMemoryEventStore,
  RegistrationError,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
} from '../../client';
import { Deposited } from './wallet-domain';

/** Emitted by no aggregate here: no @Aggregate class has an @Apply for it. */
@DomainEvent('ParcelShipped')
class ParcelShipped {
  constructor(public parcelId: string) {}
}

@EventSubscriber('parcelNotifier')
class ParcelNotifier {
  @EventHandlerMethod(Deposited)
  deposited() {}

  @EventHandlerMethod(ParcelShipped)
  notifyShipped(_ctx: EventHandlerContext<ParcelShipped>) {}
}

@EventSubscriber('declaredParcelNotifier', { entityTypes: ['Parcel'] })
class DeclaredParcelNotifier {
  @EventHandlerMethod(ParcelShipped)
  notifyShipped(_ctx: EventHandlerContext<ParcelShipped>) {}
}

const manager = (subscriber: object) =>
  new SubscriptionManager({
    source: feedSource({ store: new InMemoryEventStore(), cursorStore: memoryCursorStore(), waitMs: 100 }),
    deadLetters: memoryDeadLetters(),
    subscribers: [subscriber],
    logger: pino({ level: 'silent' }),
  });

describe('a subscriber handling an event type that no @Aggregate applies', () => {
  it('does not start, and the error names the event type, the method, and both fixes', async () => {
    const error = await manager(new ParcelNotifier()).start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(RegistrationError);
    const message = (error as Error).message;
    expect(message).toContain("@EventSubscriber('parcelNotifier') on class ParcelNotifier: notifyShipped() handles 'ParcelShipped'");
    expect(message).toContain("no registered @Aggregate class has an @Apply method for 'ParcelShipped'");
    expect(message).toContain("add an @Apply method for 'ParcelShipped' to the @Aggregate class whose @Process methods emit it");
    expect(message).toContain("declare the entity types on the subscriber: @EventSubscriber('parcelNotifier', { entityTypes: [");
    // Deposited is applied by Wallet: only the unplaced type is named.
    expect(message).not.toContain('Deposited');
  });

  it('starts when the subscriber declares its entity types', async () => {
    const declared = manager(new DeclaredParcelNotifier());
    await declared.start();
    try {
      expect(declared.status()).toEqual([expect.objectContaining({ subscriberId: 'declaredParcelNotifier', entityTypes: ['Parcel'], running: true })]);
    } finally {
      await declared.stop();
    }
  });
});

describe('readFrom on @EventSubscriber', () => {
  it('is refused at decoration unless it is beginning or end', () => {
    expect(() => {
      @EventSubscriber('fromTheMiddle', { readFrom: 'middle' as 'end' })
      class FromTheMiddle {
        @EventHandlerMethod(Deposited)
        deposited() {}
      }
      return FromTheMiddle;
    }).toThrow(/@EventSubscriber\('fromTheMiddle'\) on class FromTheMiddle: readFrom must be 'beginning' or 'end'/);
  });
});
