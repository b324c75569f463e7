import pino from 'pino';
import {
  AggregateRepository,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  PostgresEventStore,
  postgresProjection,
  SubscriptionManager,
  type PostgresProjection,
} from 'eventuate-local-ts/client';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { eventually } from '../../test/support/kafka-collector';
import { AddTodo, CreateTodoList, TodoList } from './todo-list';
import { TodoView } from './todo-view';
import { TodoViewProjection } from './todo-view-projection';

describe('TodoViewProjection', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let manager: SubscriptionManager;
  let todoView: PostgresProjection<TodoViewProjection>;
  const deadLetters = memoryDeadLetters();

  beforeAll(async () => {
    db = testDatabase('todoview');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    todoView = postgresProjection(new TodoViewProjection(), { connectionString: db.connectionString, schema: `${db.schema}_view` });
    manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters,
      subscribers: [todoView],
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop();
    await todoView.close();
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${todoView.schema}" CASCADE`);
    await db.drop();
  });

  it('refuses a change to a todo it does not hold: the list is parked behind it, named in the error; other lists go on', async () => {
    // Written past the aggregate, which would refuse to complete a todo it never added.
    await store.create({
      entityType: 'TodoList',
      entityId: 'list-bad',
      events: [
        { eventType: 'TodoListCreated', eventData: { name: 'odd' } },
        { eventType: 'TodoCompleted', eventData: { todoId: 'ghost' } },
        { eventType: 'TodoAdded', eventData: { todoId: 't-1', title: 'milk' } },
      ],
    });
    const lists = new AggregateRepository(TodoList, store);
    await lists.save(new CreateTodoList('fine'), { entityId: 'list-ok' });
    const added = await lists.update('list-ok', new AddTodo('bread', 't-2'));
    await todoView.waitFor(added, { timeoutMs: 20_000 });

    await eventually(async () => (await deadLetters.list('todo_view')).length === 2, 'the refused event and the one parked behind it are listed');
    const letters = await deadLetters.list('todo_view');
    expect(letters.map((l) => [l.state, l.entityVersion])).toEqual([
      ['failed', 2],
      ['parked', 3],
    ]);
    expect(letters[0].error).toContain('TodoCompleted of todo ghost, which the view does not hold in list list-bad (version 2)');
    const view = new TodoView(db.pool, todoView.schema);
    expect(await view.todosOf('list-bad')).toEqual([]);
    expect(await view.openTodos()).toEqual([{ todoId: 't-2', listId: 'list-ok', listName: 'fine', title: 'bread', completed: false }]);
  });
});
