import { randomUUID } from 'node:crypto';
import type { EventStore, SagaTimelineEntry } from 'eventuate-local-ts/client';
import { sagaEnded, sagaPath, sagaPathTable, statusText } from '../support/saga-path';
import { formatTable } from '../support/table';
import { OpenCarRental } from './car-rental';
import { ScheduleFlight } from './flight';
import { OpenHotel } from './hotel';
import type { TripServices } from './trip-services';

export interface Suppliers {
  flightId: string;
  hotelId: string;
  carRentalId: string;
  /** A rental desk with no car: the trips that use it fail at their third step. */
  emptyCarRentalId: string;
}

export interface BookedTrip {
  tripId: string;
  traveller: string;
  status: string;
  path: SagaTimelineEntry[];
}

/** What the example's main and its test do: suppliers, trips, and each trip's saga to its end. */
export class TravelAgency {
  constructor(
    private readonly store: EventStore,
    private readonly services: TripServices,
  ) {}

  async suppliers(): Promise<Suppliers> {
    const { flights, hotels, carRentals } = this.services;
    const [flight, hotel, cars, noCars] = await Promise.all([
      flights.save(new ScheduleFlight('EI 105', 180)),
      hotels.save(new OpenHotel('Hotel Dunmore', 20)),
      carRentals.save(new OpenCarRental('Shannon airport', 5)),
      carRentals.save(new OpenCarRental('Galway station', 0)),
    ]);
    return { flightId: flight.entityId, hotelId: hotel.entityId, carRentalId: cars.entityId, emptyCarRentalId: noCars.entityId };
  }

  /** Starts the trip's saga and waits until it ended; its path is read back from the saga's stream. */
  async book(traveller: string, flightId: string, hotelId: string, carRentalId: string, timeoutMs: number): Promise<BookedTrip> {
    const { trips } = this.services;
    const tripId = randomUUID(); // the saga's id too, so a booking names its trip's saga
    await trips.start({ tripId, traveller, flightId, hotelId, carRentalId, nights: 3 }, { sagaId: tripId });
    const { status } = await sagaEnded(trips, tripId, timeoutMs);
    return { tripId, traveller, status, path: await sagaPath(this.store, trips.definition.name, tripId) };
  }

  /** What each supplier holds for the trips: a rolled-back trip holds nothing anywhere. */
  async holdingsTable(suppliers: Suppliers, trips: BookedTrip[]): Promise<string> {
    const { flights, hotels, carRentals } = this.services;
    const [flight, hotel, cars] = await Promise.all([flights.find(suppliers.flightId), hotels.find(suppliers.hotelId), carRentals.find(suppliers.carRentalId)]);
    return formatTable(
      ['traveller', 'trip', 'seat', 'room', 'car'],
      trips.map((t) => [t.traveller, statusText(t.status), flight.entity.booked[t.tripId] ?? '-', held(hotel.entity.booked[t.tripId], 'nights'), held(cars.entity.rented[t.tripId], 'days')]),
    );
  }
}

function held(count: number | undefined, unit: string): string {
  return count === undefined ? '-' : `${count} ${unit}`;
}

export function tripPathsText(trips: BookedTrip[]): string {
  return trips.map((t) => `${t.traveller}'s trip: BookTripSaga ${t.tripId}, ${statusText(t.status)}\n${sagaPathTable(t.path)}`).join('\n\n');
}
