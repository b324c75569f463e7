import { serverFixture, type ServerFixture } from '../../test/server/server-fixture';
import { Parcel, shippingTour } from './shipping';
import { repositoryTour } from './tour';

describe("README's tour", () => {
  let server: ServerFixture;
  beforeAll(async () => {
    server = await serverFixture();
  });
  afterAll(() => server.close());

  it('saves, updates and finds an account now and as of version 1, over HTTP', async () => {
    const lines: string[] = [];
    const result = await repositoryTour(server.url, (line) => lines.push(line));
    expect(result).toEqual({ balanceNow: 70_00, balanceAtVersion1: 100_00, entityVersion: 2 });
    expect(lines).toEqual(['Ann has 7000 cents at version 2, had 10000 at version 1']);
  });
});

describe("README's values in events", () => {
  it('reads a Date and an array of value objects back as their types', async () => {
    const shipment = await shippingTour();
    expect(shipment.dispatchedAt).toBeInstanceOf(Date);
    expect(shipment.dispatchedAt!.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(shipment.parcels[0]).toBeInstanceOf(Parcel);
    expect(shipment.parcels[0].weighedAt).toBeInstanceOf(Date);
  });
});
