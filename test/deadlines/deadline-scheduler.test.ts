import 'reflect-metadata';
import pino from 'pino';
import { Pool } from 'pg';
import {
  Aggregate,
  AggregateRepository,
  Apply,
  DomainEvent,
  PostgresEventStore,
  Process,
  SubscriptionManager,
  deadlineScheduler,
  feedSource,
  memoryDeadLetters,
  serializeEvent,
  DeadlineFired,
  type DeadlineScheduler,
} from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';

class OpenReminder {}
@DomainEvent('ReminderOpened')
class ReminderOpened {}

/** An entity that owns deadlines and replays without any @Apply for them. */
@Aggregate('Reminder')
class Reminder {
  opened = false;
  @Process()
  open(_command: OpenReminder) {
    return new ReminderOpened();
  }
  @Apply()
  opened_(_event: ReminderOpened) {
    this.opened = true;
  }
}

const quiet = pino({ level: 'silent' });

describe('deadlineScheduler on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let reminders: AggregateRepository<Reminder>;
  let pool: Pool;
  let schema: string;
  const running: Array<{ manager: SubscriptionManager; scheduler: DeadlineScheduler }> = [];

  beforeAll(async () => {
    db = testDatabase('deadlines');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
    reminders = new AggregateRepository(Reminder, store);
    pool = new Pool({ connectionString: db.connectionString, max: 4 });
    schema = `${db.schema}_deadlines`.toLowerCase(); // the index, shared by every scheduler here as by processes
  });

  afterEach(async () => {
    for (const { manager } of running.splice(0)) await manager.stop();
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    await store?.close();
    await db?.drop();
  });

  /** A scheduler in a manager of its own, as another orchestrator process would run it. */
  function scheduler(pollMs = 100): DeadlineScheduler {
    return deadlineScheduler({ store, pool, entityTypes: ['Reminder'], pollMs, schema, logger: quiet });
  }

  async function run(deadlines: DeadlineScheduler): Promise<void> {
    const manager = new SubscriptionManager({ source: feedSource({ store, waitMs: 500 }), deadLetters: memoryDeadLetters(), subscribers: [deadlines], logger: quiet });
    running.push({ manager, scheduler: deadlines });
    await manager.start();
  }

  async function firedOn(entityId: string): Promise<string[]> {
    const { events } = await store.history('Reminder', entityId, { limit: 1000 });
    return events.filter((e) => e.eventType === 'DeadlineFired').map((e) => String(e.eventData.deadlineId));
  }

  it('fires each deadline once with two schedulers running, with its name and payload, under its id as token', async () => {
    const first = scheduler();
    await run(first);
    await run(scheduler());
    const owners = await Promise.all(Array.from({ length: 6 }, () => reminders.save(new OpenReminder())));
    const scheduled = await Promise.all(owners.map((o, i) => first.schedule({ entityType: 'Reminder', entityId: o.entityId, name: 'remind', inMs: 300, payload: { i } })));
    await waitUntil(async () => (await Promise.all(owners.map((o) => firedOn(o.entityId)))).every((f) => f.length > 0), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // both pollers had many more turns
    for (const [i, owner] of owners.entries()) {
      expect(await firedOn(owner.entityId)).toEqual([scheduled[i].deadlineId]);
      const fired = (await store.history('Reminder', owner.entityId)).events.at(-1)!;
      expect(fired).toMatchObject({ eventType: 'DeadlineFired', triggeringEventToken: scheduled[i].deadlineId, eventData: { name: 'remind', payload: { i } } });
      expect(new Date(fired.createdAt).getTime()).toBeGreaterThanOrEqual(scheduled[i].dueAt.getTime());
    }
    expect((await reminders.find(owners[0].entityId)).entity.opened).toBe(true); // the records replay as nothing
    await waitUntil(async () => (await first.find(scheduled[0].deadlineId))?.status === 'fired');
  });

  it('fires once, after start, a deadline that fell due while no scheduler ran', async () => {
    const deadlines = scheduler();
    const owner = await reminders.save(new OpenReminder());
    const { deadlineId } = await deadlines.schedule({ entityType: 'Reminder', entityId: owner.entityId, name: 'overdue', inMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await firedOn(owner.entityId)).toEqual([]);
    await run(deadlines);
    await run(scheduler());
    await waitUntil(async () => (await firedOn(owner.entityId)).length > 0, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await firedOn(owner.entityId)).toEqual([deadlineId]);
  });

  it('never fires a cancelled deadline; a fired one cannot be cancelled', async () => {
    const deadlines = scheduler();
    await run(deadlines);
    const owner = await reminders.save(new OpenReminder());
    const cancelled = await deadlines.schedule({ entityType: 'Reminder', entityId: owner.entityId, name: 'cancelled', inMs: 500 });
    const kept = await deadlines.schedule({ entityType: 'Reminder', entityId: owner.entityId, name: 'kept', inMs: 500 });
    expect(await deadlines.cancel({ entityType: 'Reminder', entityId: owner.entityId, deadlineId: cancelled.deadlineId })).toBe(true);
    await waitUntil(async () => (await firedOn(owner.entityId)).length > 0, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await firedOn(owner.entityId)).toEqual([kept.deadlineId]);
    expect(await deadlines.cancel({ entityType: 'Reminder', entityId: owner.entityId, deadlineId: kept.deadlineId })).toBe(false);
    expect(await deadlines.cancel({ entityType: 'Reminder', entityId: owner.entityId, deadlineId: cancelled.deadlineId })).toBe(false);
    await waitUntil(async () => (await deadlines.find(cancelled.deadlineId))?.status === 'cancelled');
  });

  it('a scheduler that crashed between firing and recording it: the next fire finds the token taken and writes nothing', async () => {
    const deadlines = scheduler(60_000);
    await run(deadlines);
    const owner = await reminders.save(new OpenReminder());
    const { deadlineId } = await deadlines.schedule({ entityType: 'Reminder', entityId: owner.entityId, name: 'once', inMs: 1 });
    await waitUntil(async () => (await deadlines.find(deadlineId))?.status === 'scheduled');
    await running.pop()!.manager.stop(); // nothing indexes or polls from here on
    // What the crashed scheduler left: DeadlineFired appended under the token, the index row not settled.
    const row = (await deadlines.find(deadlineId))!;
    const { eventType, eventData } = serializeEvent(new DeadlineFired(deadlineId, row.name, row.dueAt.toISOString(), row.payload));
    const { entityVersion } = await store.load('Reminder', owner.entityId);
    await store.append({ entityType: 'Reminder', entityId: owner.entityId, expectedVersion: entityVersion, events: [{ eventType, eventData }], triggeringEventToken: deadlineId });
    expect(row).toMatchObject({ status: 'scheduled', settled: false });
    expect(await deadlines.fireDue()).toBe(0);
    expect(await firedOn(owner.entityId)).toEqual([deadlineId]);
    expect(await deadlines.find(deadlineId)).toMatchObject({ settled: true, attempts: 1 });
    expect(await deadlines.fireDue()).toBe(0);
  });

  it('refuses a deadline on an entity type it does not read, rather than never fire it', async () => {
    await expect(scheduler().schedule({ entityType: 'Other', entityId: 'x', name: 'n', inMs: 1 })).rejects.toThrow(/'Other' would never fire/);
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
