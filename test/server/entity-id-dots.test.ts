import 'reflect-metadata';
import { request } from 'node:http';
import { AggregateRepository, HttpEventStore, ValidationError } from '../../client';
import { Account, OpenAccount } from '../client/domain/banking';
import { event, serverFixture, ServerFixture } from './server-fixture';

/**
 * `.` and `..` fit the entity id's characters, but as URL path segments they are normalised away:
 * an entity with such an id could be written and never read back through HttpEventStore. Both sides refuse them.
 */
describe('entity ids . and ..', () => {
  let f: ServerFixture;

  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it.each(['.', '..'])('the server refuses %j in the body of a create, writing nothing', async (entityId) => {
    const res = await f.call('POST', '/entity/Account', { entityId, events: [event()] });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_error', field: 'body/entityId' });
    expect(await f.tableCounts()).toEqual({ events: 0, entities: 0, snapshots: 0 });
  });

  it.each(['.', '..', '%2E%2E'])('the server refuses %s as the entity id of a path', async (segment) => {
    const append = await sendAsIs(f.url, 'POST', `/entity/Account/${segment}`, JSON.stringify({ entityVersion: 1, events: [event()] }));
    expect(append).toMatchObject({ status: 400, body: { error: 'validation_error', field: 'params/entityId' } });
    const load = await sendAsIs(f.url, 'GET', `/entity/Account/${segment}`);
    expect(load).toMatchObject({ status: 400, body: { error: 'validation_error', field: 'params/entityId' } });
  });

  it('still accepts ids that merely contain dots', async () => {
    for (const entityId of ['...', '.a', 'a..b']) {
      expect((await f.call('POST', '/entity/Account', { entityId, events: [event()] })).status).toBe(201);
      expect((await f.call('GET', `/entity/Account/${encodeURIComponent(entityId)}`)).json().entityId).toBe(entityId);
    }
  });

  it('HttpEventStore refuses them before sending anything', async () => {
    // Nothing listens there: a request would fail as ServiceUnavailableError, so a ValidationError was raised locally.
    const store = new HttpEventStore({ url: 'http://127.0.0.1:1', retries: 0 });
    for (const entityId of ['.', '..']) {
      await expect(store.create({ entityType: 'Account', entityId, events: [event()] })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.append({ entityType: 'Account', entityId, expectedVersion: 1, events: [event()] })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.load('Account', entityId)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.history('Account', entityId)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.saveSnapshot('Account', entityId, 1, { snapshotType: 'S', snapshotData: {} })).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('AggregateRepository.save refuses them through HttpEventStore, writing nothing', async () => {
    const counts = await f.tableCounts();
    const accounts = new AggregateRepository(Account, new HttpEventStore({ url: f.url, retries: 0 }));
    await expect(accounts.save(new OpenAccount(100, 'ann'), { entityId: '..' })).rejects.toThrow(/entityId must match/);
    await expect(accounts.save(new OpenAccount(100, 'ann'), { entityId: '.' })).rejects.toBeInstanceOf(ValidationError);
    expect(await f.tableCounts()).toEqual(counts);
  });
});

/** node:http with a `path` option sends it as given; a URL (fetch's or node:http's) normalises `.` and `..`, even percent-encoded. */
function sendAsIs(baseUrl: string, method: string, path: string, body?: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
