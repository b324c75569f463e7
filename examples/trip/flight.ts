import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';

export class ScheduleFlight {
  constructor(
    public code: string,
    public seats: number,
  ) {}
}
export class BookSeat {
  constructor(
    public tripId: string,
    public traveller: string,
  ) {}
}
export class CancelSeat {
  constructor(public tripId: string) {}
}

/** Thrown by the flight's @Process: the saga hears it as the step's failure. */
export class FlightFullError extends Error {
  override name = 'FlightFullError';
}

@DomainEvent('FlightScheduled')
export class FlightScheduled {
  constructor(
    public code: string,
    public seats: number,
  ) {}
}
@DomainEvent('SeatBooked')
export class SeatBooked {
  constructor(
    public tripId: string,
    public seat: string,
  ) {}
}
@DomainEvent('SeatCancelled')
export class SeatCancelled {
  constructor(
    public tripId: string,
    public seat: string,
  ) {}
}

/** The airline's aggregate: a flight's seats and who holds them. */
@Aggregate('Flight')
export class Flight {
  code = '';
  seats = 0;
  /** tripId → seat */
  booked: Record<string, string> = {};
  private issued = 0;

  @Process()
  schedule(command: ScheduleFlight) {
    return new FlightScheduled(command.code, command.seats);
  }

  @Process()
  book(command: BookSeat) {
    if (Object.keys(this.booked).length >= this.seats) throw new FlightFullError(`flight ${this.code} is full`);
    return new SeatBooked(command.tripId, `${this.issued + 1}A`);
  }

  @Process()
  cancel(command: CancelSeat) {
    const seat = this.booked[command.tripId];
    if (seat === undefined) throw new Error(`trip ${command.tripId} holds no seat on flight ${this.code}`);
    return new SeatCancelled(command.tripId, seat);
  }

  @Apply()
  scheduled(event: FlightScheduled) {
    this.code = event.code;
    this.seats = event.seats;
  }

  @Apply()
  seatBooked(event: SeatBooked) {
    this.booked[event.tripId] = event.seat;
    this.issued++;
  }

  @Apply()
  seatCancelled(event: SeatCancelled) {
    delete this.booked[event.tripId];
  }
}
