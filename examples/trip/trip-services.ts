import type { Logger } from 'pino';
// #region wiring
import { AggregateRepository, sagaOrchestrator, sagaParticipant, SubscriptionManager } from 'eventuate-local-ts/client';
// #endregion
import type { DeadLetterStore, EventSource, EventStore, SagaOrchestrator } from 'eventuate-local-ts/client';
import { bookTripSaga, type TripData } from './book-trip-saga';
import { CarRental } from './car-rental';
import { Flight } from './flight';
import { Hotel } from './hotel';

export interface TripServicesOptions {
  store: EventStore;
  /** A source per service: the travel agency (the orchestrator), the airline, the hotel, the car rental. */
  source: () => Promise<EventSource> | EventSource;
  deadLetters: DeadLetterStore;
  logger: Logger;
}

export interface TripServices {
  flights: AggregateRepository<Flight>;
  hotels: AggregateRepository<Hotel>;
  carRentals: AggregateRepository<CarRental>;
  trips: SagaOrchestrator<TripData>;
  managers: SubscriptionManager[];
}

/** The four services of the example, in one process here. */
export async function tripServices({ store, source, deadLetters, logger }: TripServicesOptions): Promise<TripServices> {
  // #region wiring
  const trips = sagaOrchestrator(bookTripSaga, store, { logger });
  // A SubscriptionManager per service, as each would be a deployment of its own sharing only the event store.
  const service = async (...subscribers: object[]) => new SubscriptionManager({ source: await source(), deadLetters, subscribers, logger });
  const managers = [
    await service(trips), // the travel agency
    await service(sagaParticipant(Flight, store, { sagas: ['BookTripSaga'], logger })), // the airline
    await service(sagaParticipant(Hotel, store, { sagas: ['BookTripSaga'], logger })), // the hotel
    await service(sagaParticipant(CarRental, store, { sagas: ['BookTripSaga'], logger })), // the car rental
  ];
  // #endregion
  return {
    flights: new AggregateRepository(Flight, store),
    hotels: new AggregateRepository(Hotel, store),
    carRentals: new AggregateRepository(CarRental, store),
    trips,
    managers,
  };
}
