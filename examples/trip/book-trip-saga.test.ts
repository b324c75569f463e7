import { sagaFixture } from 'eventuate-local-ts/testing';
import { bookTripSaga } from './book-trip-saga';
import { CarRental, CarRented, NoCarAvailableError, RentCar } from './car-rental';
import { BookSeat, CancelSeat, Flight, SeatBooked, SeatCancelled } from './flight';
import { BookRoom, CancelRoom, Hotel, HotelFullyBooked, RoomBooked, RoomCancelled } from './hotel';

const trip = { tripId: 't-1', traveller: 'Ann', flightId: 'f-1', hotelId: 'h-1', carRentalId: 'c-1', nights: 3 };

describe('the trip saga, in memory (sagaFixture)', () => {
  it('books a seat, a room and a car, and records the seat', () => {
    sagaFixture(bookTripSaga)
      .start(trip)
      .expectCommand(Flight, 'f-1', new BookSeat('t-1', 'Ann'))
      .replyWith(new SeatBooked('t-1', '7C'))
      .expectCommand(Hotel, 'h-1', new BookRoom('t-1', 3))
      .replyWith(new RoomBooked('t-1', 3))
      .expectCommand(CarRental, 'c-1', new RentCar('t-1', 4))
      .replyWith(new CarRented('t-1', 4))
      .expectNoMoreCommands()
      .expectCompleted()
      .expectData((data) => expect(data.seat).toBe('7C'));
  });

  it('a car refused undoes the room, then the seat', () => {
    // #region fixture
    sagaFixture(bookTripSaga)
      .start(trip)
      .expectCommand(Flight, 'f-1', new BookSeat('t-1', 'Ann'))
      .replyWith(new SeatBooked('t-1', '7C'))
      .expectCommand(Hotel, 'h-1', new BookRoom('t-1', 3))
      .replyWith(new RoomBooked('t-1', 3))
      .expectCommand(CarRental, 'c-1', new RentCar('t-1', 4))
      .refuseWith(new NoCarAvailableError('no car left'))
      .expectCompensation(Hotel, 'h-1', new CancelRoom('t-1'))
      .replyWith(new RoomCancelled('t-1'))
      .expectCompensation(Flight, 'f-1', new CancelSeat('t-1'))
      .replyWith(new SeatCancelled('t-1', '7C'))
      .expectNoMoreCommands()
      .expectRolledBack('rentCar');
    // #endregion
  });

  it('a full hotel undoes only the seat', () => {
    sagaFixture(bookTripSaga)
      .start(trip)
      .expectCommand(Flight, 'f-1', new BookSeat('t-1', 'Ann'))
      .replyWith(new SeatBooked('t-1', '7C'))
      .expectCommand(Hotel, 'h-1', new BookRoom('t-1', 3))
      .replyWith(new HotelFullyBooked('t-1'))
      .expectCompensation(Flight, 'f-1', new CancelSeat('t-1'))
      .replyWith(new SeatCancelled('t-1', '7C'))
      .expectNoMoreCommands()
      .expectRolledBack('bookHotel');
  });
});
