import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { feedSource, HttpEventStore, memoryCursorStore, memoryDeadLetters, PostgresEventStore } from 'eventuate-local-ts/client';
import { buildApp } from 'eventuate-local-ts/server';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { TravelAgency, tripPathsText } from './trip-scenario';
import { tripServices, type TripServices } from './trip-services';

const steps = (path: Array<{ step?: string; what: string }>) => path.map((e) => (e.step ? `${e.step}: ${e.what}` : e.what));

describe('trip example: three participants in services of their own, the third step failing', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let services: TripServices | undefined;

  beforeAll(async () => {
    db = testDatabase('trip');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    app = buildApp({ store, closeStore: false, defaultMetrics: false });
  });

  afterAll(async () => {
    for (const manager of services?.managers ?? []) await manager.stop();
    app.server.closeAllConnections();
    await app.close();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(60_000);

  it('books one trip whole; the other fails at the car and gives back the room, then the seat', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const http = new HttpEventStore({ url });
    const source = () => feedSource({ url, cursorStore: memoryCursorStore(), waitMs: 1000 });
    services = await tripServices({ store: http, source, deadLetters: memoryDeadLetters(), logger: pino({ level: 'silent' }) });
    for (const manager of services.managers) await manager.start();
    const agency = new TravelAgency(http, services);
    const s = await agency.suppliers();

    const [ann, bob] = await Promise.all([agency.book('Ann', s.flightId, s.hotelId, s.carRentalId, 30_000), agency.book('Bob', s.flightId, s.hotelId, s.emptyCarRentalId, 30_000)]);

    expect(ann.status).toBe('completed');
    expect(steps(ann.path)).toEqual([
      'started',
      'bookFlight: action sent',
      'bookFlight: succeeded',
      'bookHotel: action sent',
      'bookHotel: succeeded',
      'rentCar: action sent',
      'rentCar: succeeded',
      'completed',
    ]);
    expect(bob.status).toBe('rolledBack');
    expect(steps(bob.path)).toEqual([
      'started',
      'bookFlight: action sent',
      'bookFlight: succeeded',
      'bookHotel: action sent',
      'bookHotel: succeeded',
      'rentCar: action sent',
      'rentCar: failed',
      'bookHotel: compensation sent',
      'bookHotel: compensated',
      'bookFlight: compensation sent',
      'bookFlight: compensated',
      'rentCar: rolled back',
    ]);
    expect(bob.path[6].detail).toBe('CarRental refused RentCar: NoCarAvailableError: no car left at Galway station');
    expect(bob.path.map((e) => e.participant?.entityId ?? '')).toEqual(['', s.flightId, s.flightId, s.hotelId, s.hotelId, s.emptyCarRentalId, s.emptyCarRentalId, s.hotelId, s.hotelId, s.flightId, s.flightId, '']);

    // What each supplier holds: Ann's trip everywhere, Bob's nowhere.
    const [flight, hotel, cars, noCars] = await Promise.all([services.flights.find(s.flightId), services.hotels.find(s.hotelId), services.carRentals.find(s.carRentalId), services.carRentals.find(s.emptyCarRentalId)]);
    expect(Object.keys(flight.entity.booked)).toEqual([ann.tripId]);
    expect(hotel.entity.booked).toEqual({ [ann.tripId]: 3 });
    expect(cars.entity.rented).toEqual({ [ann.tripId]: 4 });
    expect(noCars.entity.rented).toEqual({});

    const table = await agency.holdingsTable(s, [ann, bob]);
    expect(table.split('\n').slice(2)).toEqual([expect.stringMatching(/^Ann +completed +\dA +3 nights +4 days$/), expect.stringMatching(/^Bob +rolled back +- +- +-$/)]);
    expect(tripPathsText([ann, bob])).toMatch(/\n 9 +\d+ +bookHotel +compensated +Hotel +\d+ ms +RoomCancelled\n/);
  });
});
