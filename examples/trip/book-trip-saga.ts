// #region saga
import { defineSaga } from 'eventuate-local-ts/client';
// #endregion
import { CarRental, CarRented, RentCar } from './car-rental';
import { BookSeat, CancelSeat, Flight, SeatBooked } from './flight';
import { BookRoom, CancelRoom, Hotel, HotelFullyBooked, RoomBooked } from './hotel';

/** The saga's data, kept as JSON in its events. */
export interface TripData {
  tripId: string;
  traveller: string;
  flightId: string;
  hotelId: string;
  carRentalId: string;
  nights: number;
  /** Recorded from the flight's reply. */
  seat?: string;
}

/**
 * A trip is booked in three services: a seat, a room, a car. When a step fails, the steps done
 * before it are undone in reverse order: the room is cancelled, then the seat.
 */
// #region saga
export const bookTripSaga = defineSaga<TripData>('BookTripSaga')
  .step('bookFlight')
  .invokeParticipant(Flight, { entityId: (d) => d.flightId, command: (d) => new BookSeat(d.tripId, d.traveller) })
  .onSuccess(SeatBooked, (d, booked) => {
    d.seat = booked.seat;
  })
  .withCompensation((d) => new CancelSeat(d.tripId))
  .step('bookHotel')
  .invokeParticipant(Hotel, { entityId: (d) => d.hotelId, command: (d) => new BookRoom(d.tripId, d.nights) })
  .onSuccess(RoomBooked)
  .onFailure(HotelFullyBooked)
  .withCompensation((d) => new CancelRoom(d.tripId))
  .step('rentCar') // no compensation: nothing comes after it
  .invokeParticipant(CarRental, { entityId: (d) => d.carRentalId, command: (d) => new RentCar(d.tripId, d.nights + 1) })
  .onSuccess(CarRented) // a NoCarAvailableError thrown by the rental is its failure
  .build();
// #endregion
