import { randomUUID } from 'node:crypto';
import { createEntity, event, serverFixture, ServerFixture } from './server-fixture';

describe('entity routes over HTTP', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it('creates with a generated id, appends, and loads the state at an earlier version and time', async () => {
    const created = await f.call('POST', '/entity/Order', { events: [event('OrderPlaced', { total: 10 })] });
    expect(created.status).toBe(201);
    const { entityId, entityVersion, eventIds } = created.json();
    expect(entityVersion).toBe(1);
    expect(eventIds).toHaveLength(1);
    const placedAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));

    const appended = await f.call('POST', `/entity/Order/${entityId}`, { entityVersion: 1, events: [event('OrderPaid', { by: 'card' }), event('OrderShipped')] });
    expect(appended.status).toBe(200);
    expect(appended.json()).toMatchObject({ entityType: 'Order', entityId, entityVersion: 3 });

    const now = (await f.call('GET', `/entity/Order/${entityId}`)).json();
    expect(now.entityVersion).toBe(3);
    expect(now.events.map((e: any) => e.eventType)).toEqual(['OrderPlaced', 'OrderPaid', 'OrderShipped']);
    expect(now.events[1]).toMatchObject({ entityType: 'Order', entityId, entityVersion: 2, eventData: { by: 'card' }, metadata: {} });

    const atV1 = (await f.call('GET', `/entity/Order/${entityId}?toVersion=1`)).json();
    expect(atV1.entityVersion).toBe(1);
    expect(atV1.events).toHaveLength(1);

    const atTime = (await f.call('GET', `/entity/Order/${entityId}?asOf=${encodeURIComponent(placedAt)}`)).json();
    expect(atTime.entityVersion).toBe(1);
  });

  it('stores snapshots inline and on their own, and ?snapshot=false ignores them', async () => {
    await createEntity(f, 'Cart', 'cart-1', 2);
    const inline = await f.call('POST', '/entity/Cart/cart-1', { entityVersion: 2, events: [event('ItemAdded')], snapshot: { snapshotType: 'CartState', snapshotData: { items: 3 } } });
    expect(inline.status).toBe(200);
    const loaded = (await f.call('GET', '/entity/Cart/cart-1')).json();
    expect(loaded.snapshot).toMatchObject({ snapshotType: 'CartState', snapshotData: { items: 3 }, entityVersion: 3 });
    expect(loaded.events).toHaveLength(0);

    await f.call('POST', '/entity/Cart/cart-1', { entityVersion: 3, events: [event('ItemAdded')] });
    const saved = await f.call('POST', '/entity/Cart/cart-1/snapshots', { entityVersion: 4, snapshotType: 'CartState', snapshotData: { items: 4 } });
    expect(saved.status).toBe(201);
    expect(saved.json()).toEqual({ entityType: 'Cart', entityId: 'cart-1', entityVersion: 4 });
    expect((await f.call('GET', '/entity/Cart/cart-1')).json()).toMatchObject({ entityVersion: 4, snapshot: { entityVersion: 4 }, events: [] });

    const full = (await f.call('GET', '/entity/Cart/cart-1?snapshot=false')).json();
    expect(full.snapshot).toBeUndefined();
    expect(full.events.map((e: any) => e.entityVersion)).toEqual([1, 2, 3, 4]);
  });

  it('pages the history, never shortened by snapshots', async () => {
    await createEntity(f, 'Ledger', 'l-1', 5);
    await f.call('POST', '/entity/Ledger/l-1/snapshots', { entityVersion: 5, snapshotType: 'S', snapshotData: {} });
    const first = (await f.call('GET', '/entity/Ledger/l-1/history?limit=3')).json();
    expect(first.events.map((e: any) => e.entityVersion)).toEqual([1, 2, 3]);
    expect(first).toMatchObject({ entityVersion: 5, nextFromVersion: 4 });
    const second = (await f.call('GET', '/entity/Ledger/l-1/history?limit=3&fromVersion=4')).json();
    expect(second.events.map((e: any) => e.entityVersion)).toEqual([4, 5]);
    expect(second.nextFromVersion).toBeNull();
  });

  it('lists entities of a type page by page, and the types with their counts', async () => {
    for (const id of ['u-1', 'u-2', 'u-3']) await createEntity(f, 'User', id, 2);
    const page1 = (await f.call('GET', '/entity/User?limit=2')).json();
    expect(page1.entities).toHaveLength(2);
    expect(page1.next).toEqual(expect.any(String));
    const page2 = (await f.call('GET', `/entity/User?limit=2&after=${encodeURIComponent(page1.next)}`)).json();
    const ids = [...page1.entities, ...page2.entities].map((e: any) => e.entityId).sort();
    expect(ids).toEqual(['u-1', 'u-2', 'u-3']);
    expect(page2.entities[0]).toEqual({ entityId: expect.any(String), entityVersion: 2, createdAt: expect.any(String), updatedAt: expect.any(String) });

    const types = (await f.call('GET', '/types')).json().types;
    expect(types).toContainEqual({ entityType: 'User', entityCount: 3, eventCount: 6 });
  });

  it('returns the first result when an append is retried with the same event ids, writing nothing', async () => {
    await createEntity(f, 'Wallet', 'w-1');
    const body = { entityVersion: 1, events: [{ eventId: randomUUID(), eventType: 'Credited', eventData: { amount: 5 } }] };
    const first = await f.call('POST', '/entity/Wallet/w-1', body);
    const before = await f.tableCounts();
    const retry = await f.call('POST', '/entity/Wallet/w-1', body);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect(await f.tableCounts()).toEqual(before);
  });

  it('accepts names at the edges of the patterns', async () => {
    const entityType = `$Type_with.dots-and$${'x'.repeat(180)}`;
    const entityId = `id:with@all_the.allowed-${'9'.repeat(170)}`;
    const created = await f.call('POST', `/entity/${encodeURIComponent(entityType)}`, { entityId, events: [event('$Odd.Name-1')] });
    expect(created.status).toBe(201);
    const loaded = (await f.call('GET', `/entity/${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`)).json();
    expect(loaded.events[0]).toMatchObject({ entityType, entityId, eventType: '$Odd.Name-1' });
  });

  it('passes event metadata and the triggering token through to readers', async () => {
    const created = await f.call('POST', '/entity/Transfer', {
      entityId: 't-1',
      triggeringEventToken: 'cmd-42',
      events: [{ eventType: 'TransferRequested', eventData: { amount: 1 }, metadata: { userId: 'u-9' } }],
    });
    expect(created.status).toBe(201);
    const history = (await f.call('GET', '/entity/Transfer/t-1/history')).json();
    expect(history.events[0]).toMatchObject({ metadata: { userId: 'u-9' }, triggeringEventToken: 'cmd-42' });
  });
});
