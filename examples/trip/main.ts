/**
 * npm run example:trip — a trip booked in three services (flight, hotel, car) by an orchestrated saga,
 * against a running server (EVENTUATE_URL, default http://localhost:8080). Bob's trip fails at its
 * third step; his room and seat are given back in reverse order.
 */
import pino from 'pino';
import { HttpEventStore, memoryDeadLetters } from 'eventuate-local-ts/client';
import { exampleSource } from '../support/example-source';
import { eventStoreUrl, runExample } from '../support/run-example';
import { TravelAgency, tripPathsText } from './trip-scenario';
import { tripServices } from './trip-services';

const TYPES = ['BookTripSaga', 'Flight', 'Hotel', 'CarRental'];

runExample(async () => {
  const url = eventStoreUrl();
  const server = { url, apiKey: process.env.EVENTUATE_API_KEY };
  const store = new HttpEventStore(server);
  const logger = pino({ level: process.env.LOG_LEVEL || 'warn' });
  // This run's only: a command that cannot be applied parks here and the run times out saying where its saga stands.
  const services = await tripServices({ store, source: () => exampleSource(server, TYPES), deadLetters: memoryDeadLetters(), logger });
  try {
    for (const manager of services.managers) await manager.start();
    console.log(`event store: ${url}\n`);
    const agency = new TravelAgency(store, services);
    const suppliers = await agency.suppliers();
    const trips = await Promise.all([
      agency.book('Ann', suppliers.flightId, suppliers.hotelId, suppliers.carRentalId, 30_000),
      agency.book('Bob', suppliers.flightId, suppliers.hotelId, suppliers.emptyCarRentalId, 30_000),
    ]);
    console.log(`${await agency.holdingsTable(suppliers, trips)}\n\n${tripPathsText(trips)}`);
  } finally {
    for (const manager of services.managers) await manager.stop();
  }
});
