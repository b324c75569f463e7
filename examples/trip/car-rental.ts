import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';

export class OpenCarRental {
  constructor(
    public location: string,
    public cars: number,
  ) {}
}
export class RentCar {
  constructor(
    public tripId: string,
    public days: number,
  ) {}
}

/** Thrown by the rental's @Process: the participant answers the saga with a failure (SagaCommandFailed). */
export class NoCarAvailableError extends Error {
  override name = 'NoCarAvailableError';
}

@DomainEvent('CarRentalOpened')
export class CarRentalOpened {
  constructor(
    public location: string,
    public cars: number,
  ) {}
}
@DomainEvent('CarRented')
export class CarRented {
  constructor(
    public tripId: string,
    public days: number,
  ) {}
}

/** The car rental desk's aggregate: its cars and the trips that have one. The trip's last step, so nothing ever undoes a rental. */
@Aggregate('CarRental')
export class CarRental {
  location = '';
  cars = 0;
  /** tripId → days */
  rented: Record<string, number> = {};

  @Process()
  open(command: OpenCarRental) {
    return new CarRentalOpened(command.location, command.cars);
  }

  @Process()
  rent(command: RentCar) {
    if (Object.keys(this.rented).length >= this.cars) throw new NoCarAvailableError(`no car left at ${this.location}`);
    return new CarRented(command.tripId, command.days);
  }

  @Apply()
  opened(event: CarRentalOpened) {
    this.location = event.location;
    this.cars = event.cars;
  }

  @Apply()
  carRented(event: CarRented) {
    this.rented[event.tripId] = event.days;
  }
}
