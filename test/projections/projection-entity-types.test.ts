import pino from 'pino';
import type { PoolClient } from 'pg';
import {
  EventHandlerMethod,
  Projection,
  ProjectionEntityTypesError,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  postgresProjection,
  type OnNewEntityTypes,
  type ProjectionContext,
} from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { WalletOpened } from '../subscriptions/wallet-domain';

const quiet = pino({ level: 'silent' });

/** Who opened each account, of two entity types that both record WalletOpened. */
@Projection('account_owners', { entityTypes: ['Savings', 'Wallet'] })
class AccountOwners {
  async createTables(db: PoolClient) {
    await db.query(`CREATE TABLE owners (entity_type text NOT NULL, entity_id text NOT NULL, owner text NOT NULL, PRIMARY KEY (entity_type, entity_id))`);
  }

  @EventHandlerMethod(WalletOpened)
  async opened(ctx: ProjectionContext<WalletOpened>) {
    await ctx.db.query(`INSERT INTO owners (entity_type, entity_id, owner) VALUES ($1, $2, $3)`, [ctx.entityType, ctx.entityId, ctx.event.owner]);
  }
}

describe('a projection started with entity types other than those its tables were built from', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let viewSchema: string;
  const managers: SubscriptionManager[] = [];

  beforeEach(async () => {
    db = testDatabase('projtypes');
    viewSchema = `${db.schema}_owners`.toLowerCase();
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 6 });
  });

  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop().catch(() => undefined);
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE; DROP SCHEMA IF EXISTS "${viewSchema}__next" CASCADE`);
    await db.drop();
  });

  const open = (entityType: string, entityId: string, owner: string) => store.create({ entityType, entityId, events: [{ eventType: 'WalletOpened', eventData: { owner } }] });
  const start = async (options: { onNewEntityTypes?: OnNewEntityTypes } = {}) => {
    const projection = postgresProjection(new AccountOwners(), { pool: db.pool, schema: viewSchema, feed: store, logger: quiet, ...options });
    const manager = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }), deadLetters: memoryDeadLetters(), subscribers: [projection], logger: quiet });
    managers.push(manager);
    await manager.start();
    return projection;
  };
  const stopAll = async () => {
    for (const manager of managers.splice(0)) await manager.stop();
  };
  const owners = async () => (await db.pool.query(`SELECT entity_type, entity_id, owner FROM "${viewSchema}".owners ORDER BY entity_type, entity_id`)).rows;
  const recordedTypes = async () => (await db.pool.query(`SELECT entity_types FROM "${viewSchema}".eventuate_projection_state`)).rows[0].entity_types;

  /** The tables as a deployment whose projection read Wallet alone left them: its checkpoint past s-1's event, no row for it. */
  const builtFromWalletAlone = async () => {
    await open('Wallet', 'w-1', 'ann');
    await open('Savings', 's-1', 'bob');
    const projection = await start();
    await projection.waitFor({ entityType: 'Savings', entityId: 's-1', entityVersion: 1 });
    await stopAll();
    await db.pool.query(`DELETE FROM "${viewSchema}".owners WHERE entity_type = 'Savings'; DELETE FROM "${viewSchema}".eventuate_projection_entities WHERE entity_type = 'Savings'`);
    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET entity_types = '{Wallet}'`);
  };

  it('refuses to start by default, naming the projection, the added type and both fixes; the tables stay as they were', async () => {
    await builtFromWalletAlone();
    const refused = await start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ProjectionEntityTypesError);
    const message = (refused as Error).message;
    expect(message).toContain(`projection 'account_owners' now reads entity types Savings`);
    expect(message).toContain('eventuate-local projections rebuild account_owners --module');
    expect(message).toContain('projection.rebuild()');
    expect(message).toContain("onNewEntityTypes: 'rebuild'");
    expect(await owners()).toEqual([{ entity_type: 'Wallet', entity_id: 'w-1', owner: 'ann' }]);
    expect(await recordedTypes()).toEqual(['Wallet']);
  });

  it("with onNewEntityTypes: 'rebuild', rebuilds before it starts: the added type's earlier events are in the view, and the types recorded", async () => {
    await builtFromWalletAlone();
    const projection = await start({ onNewEntityTypes: 'rebuild' });
    // Read right after start, without waiting: the rebuild came first.
    expect(await owners()).toEqual([
      { entity_type: 'Savings', entity_id: 's-1', owner: 'bob' },
      { entity_type: 'Wallet', entity_id: 'w-1', owner: 'ann' },
    ]);
    expect(await recordedTypes()).toEqual(['Savings', 'Wallet']);
    await open('Savings', 's-2', 'cy');
    await projection.waitFor({ entityType: 'Savings', entityId: 's-2', entityVersion: 1 });
    expect(await owners()).toHaveLength(3);
  });

  it('starts when it reads fewer types than before, and records the types it reads now', async () => {
    await open('Wallet', 'w-1', 'ann');
    await (await start()).waitFor({ entityType: 'Wallet', entityId: 'w-1', entityVersion: 1 });
    await stopAll();
    await db.pool.query(`UPDATE "${viewSchema}".eventuate_projection_state SET entity_types = '{Parcel,Savings,Wallet}'`);
    const projection = await start();
    expect(await recordedTypes()).toEqual(['Savings', 'Wallet']);
    await open('Wallet', 'w-2', 'dee');
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-2', entityVersion: 1 });
    expect(await owners()).toHaveLength(2);
  });

  it('a projection that never ran records its types and reads every earlier event of them', async () => {
    await open('Wallet', 'w-1', 'ann');
    await open('Savings', 's-1', 'bob');
    const projection = await start();
    expect(await recordedTypes()).toEqual(['Savings', 'Wallet']);
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-1', entityVersion: 1 });
    await projection.waitFor({ entityType: 'Savings', entityId: 's-1', entityVersion: 1 });
    expect(await owners()).toHaveLength(2);
  });
});
