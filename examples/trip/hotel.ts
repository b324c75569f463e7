import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';

export class OpenHotel {
  constructor(
    public name: string,
    public rooms: number,
  ) {}
}
export class BookRoom {
  constructor(
    public tripId: string,
    public nights: number,
  ) {}
}
export class CancelRoom {
  constructor(public tripId: string) {}
}

@DomainEvent('HotelOpened')
export class HotelOpened {
  constructor(
    public name: string,
    public rooms: number,
  ) {}
}
@DomainEvent('RoomBooked')
export class RoomBooked {
  constructor(
    public tripId: string,
    public nights: number,
  ) {}
}
/** A refusal as an event of the hotel's: the saga declares it as the step's failure. */
@DomainEvent('HotelFullyBooked')
export class HotelFullyBooked {
  constructor(public tripId: string) {}
}
@DomainEvent('RoomCancelled')
export class RoomCancelled {
  constructor(public tripId: string) {}
}

/** The hotel's aggregate: its rooms and the trips holding them. */
@Aggregate('Hotel')
export class Hotel {
  name = '';
  rooms = 0;
  /** tripId → nights */
  booked: Record<string, number> = {};

  @Process()
  open(command: OpenHotel) {
    return new HotelOpened(command.name, command.rooms);
  }

  @Process()
  book(command: BookRoom) {
    if (Object.keys(this.booked).length >= this.rooms) return new HotelFullyBooked(command.tripId);
    return new RoomBooked(command.tripId, command.nights);
  }

  @Process()
  cancel(command: CancelRoom) {
    if (this.booked[command.tripId] === undefined) throw new Error(`trip ${command.tripId} holds no room at ${this.name}`);
    return new RoomCancelled(command.tripId);
  }

  @Apply()
  opened(event: HotelOpened) {
    this.name = event.name;
    this.rooms = event.rooms;
  }

  @Apply()
  roomBooked(event: RoomBooked) {
    this.booked[event.tripId] = event.nights;
  }

  @Apply()
  fullyBooked(_event: HotelFullyBooked) {
    // Nothing is held; the event is the saga's answer.
  }

  @Apply()
  roomCancelled(event: RoomCancelled) {
    delete this.booked[event.tripId];
  }
}
