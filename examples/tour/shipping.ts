/**
 * The README's "Values in events" part: an event with a Date, a value object and an array of
 * value objects, written in the constructor style, reading back as the same types (tour.test.ts).
 */
// #region values
import { Aggregate, AggregateRepository, Apply, DomainEvent, InMemoryEventStore, Process, ValueObject } from 'eventuate-local-ts/client';
// #endregion

// #region values
@ValueObject()
export class Parcel {
  constructor(
    public trackingId: string,
    public weighedAt: Date,
  ) {}
}

@DomainEvent('ShipmentDispatched', { types: { parcels: () => Parcel } })
export class ShipmentDispatched {
  constructor(
    public dispatchedAt: Date, // a Date parameter reads back as a Date
    public parcels: Parcel[], // an array's element class is named in `types`
    public note?: string,
  ) {}
}
// #endregion

export class DispatchShipment {
  constructor(
    public dispatchedAt: Date,
    public parcels: Parcel[],
  ) {}
}

@Aggregate('Shipment')
export class Shipment {
  dispatchedAt?: Date;
  parcels: Parcel[] = [];

  @Process()
  dispatch(command: DispatchShipment) {
    return new ShipmentDispatched(command.dispatchedAt, command.parcels);
  }

  @Apply()
  dispatched(event: ShipmentDispatched) {
    this.dispatchedAt = event.dispatchedAt;
    this.parcels = event.parcels;
  }
}

/** Saves a shipment and reads it back from a store: the types it went in with come back. */
export async function shippingTour(): Promise<Shipment> {
  const shipments = new AggregateRepository(Shipment, new InMemoryEventStore());
  const weighedAt = new Date('2026-11-24T09:30:00.000Z');
  const { entityId } = await shipments.save(new DispatchShipment(new Date('2026-11-24T10:00:00.000Z'), [new Parcel('P-1', weighedAt)]));
  return (await shipments.find(entityId)).entity;
}
