import pino from 'pino';
import { Pool } from 'pg';
import { DeadlineIndexError, PostgresEventStore, SubscriptionManager, deadlineScheduler, feedSource, memoryCursorStore, memoryDeadLetters, type DeadlineScheduler } from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';

const quiet = pino({ level: 'silent' });

describe('a deadline scheduler given an entity type its index was not built for', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: Pool;
  let schema: string;
  const managers: SubscriptionManager[] = [];

  beforeAll(async () => {
    db = testDatabase('dltypes');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    pool = new Pool({ connectionString: db.connectionString, max: 4 });
    schema = `${db.schema}_deadlines`.toLowerCase();
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    await store.close();
    await db.drop();
  });

  const scheduler = (options: { onNewEntityTypes?: 'refuse' | 'rebuild' } = {}) =>
    deadlineScheduler({ store, pool, entityTypes: ['Parcel', 'Reminder'], pollMs: 100, schema, logger: quiet, ...options });
  const manager = (subscriber: DeadlineScheduler) => {
    const made = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }), deadLetters: memoryDeadLetters(), subscribers: [subscriber], logger: quiet });
    managers.push(made);
    return made;
  };
  const owner = async (entityType: string) => (await store.create({ entityType, events: [{ eventType: 'Opened', eventData: {} }] })).entityId;
  const history = async (entityType: string, entityId: string) => (await store.history(entityType, entityId)).events.map((e) => e.eventType);

  it('refuses to start, naming the fix; rebuilt with onNewEntityTypes: rebuild, it fires the deadlines it had missed, and none twice', async () => {
    const reminderId = await owner('Reminder');
    const parcelId = await owner('Parcel');
    const first = scheduler();
    const reminderDeadline = await first.schedule({ entityType: 'Reminder', entityId: reminderId, name: 'remind', inMs: 0 });
    const parcelDeadline = await first.schedule({ entityType: 'Parcel', entityId: parcelId, name: 'collect', inMs: 60 * 60_000 });
    const running = manager(first);
    await running.start();
    await eventually(async () => (await history('Reminder', reminderId)).includes('DeadlineFired'), 'the reminder fired', 20_000);
    await eventually(async () => (await first.find(parcelDeadline.deadlineId)) !== undefined, 'the parcel deadline is indexed', 20_000);
    await running.stop();
    // What an index built by a scheduler of Reminder alone holds: its checkpoint past the parcel's DeadlineScheduled, no row for it.
    await pool.query(`DELETE FROM "${schema}".deadlines WHERE deadline_id = $1`, [parcelDeadline.deadlineId]);
    await pool.query(`UPDATE "${schema}".eventuate_projection_state SET entity_types = '{Reminder}'`);
    await pool.query(`UPDATE "${db.schema}".events SET event_data = jsonb_set(event_data, '{dueAt}', to_jsonb($1::text)) WHERE event_data->>'deadlineId' = $2 AND event_type = 'DeadlineScheduled'`, [
      new Date(Date.now() - 1000).toISOString(),
      parcelDeadline.deadlineId,
    ]); // and due by now

    const refusing = manager(scheduler());
    const refused = await refusing.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DeadlineIndexError);
    expect(String((refused as Error).message)).toMatch(/deadline index '.*' was built for entity types other than Parcel.*would never fire.*onNewEntityTypes: 'rebuild'/);
    await refusing.stop().catch(() => undefined);

    const rebuilding = scheduler({ onNewEntityTypes: 'rebuild' });
    await manager(rebuilding).start();
    await eventually(async () => (await history('Parcel', parcelId)).includes('DeadlineFired'), 'the parcel deadline fired after the rebuild', 20_000);
    // The index reads the DeadlineFired it wrote a moment later.
    await eventually(async () => (await rebuilding.find(parcelDeadline.deadlineId))?.status === 'fired', 'the index reads the parcel deadline as fired', 20_000);
    expect(await rebuilding.find(reminderDeadline.deadlineId)).toMatchObject({ status: 'fired' });
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few polls more
    expect(await history('Reminder', reminderId)).toEqual(['Opened', 'DeadlineScheduled', 'DeadlineFired']);
    expect(await history('Parcel', parcelId)).toEqual(['Opened', 'DeadlineScheduled', 'DeadlineFired']);
    const { rows } = await pool.query(`SELECT entity_types FROM "${schema}".eventuate_projection_state`);
    expect(rows[0].entity_types).toEqual(['Parcel', 'Reminder']);
  });
});
