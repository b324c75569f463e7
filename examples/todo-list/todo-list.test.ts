import type { FastifyInstance } from 'fastify';
import pino from 'pino';
// #region projection-wiring
import { feedSource, memoryCursorStore, memoryDeadLetters, postgresProjection, SubscriptionManager } from 'eventuate-local-ts/client';
// #endregion
import { AggregateRepository, HttpEventStore, PostgresEventStore, type PostgresProjection } from 'eventuate-local-ts/client';
import { buildApp } from 'eventuate-local-ts/server';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { AddTodo, CompleteTodo, CreateTodoList, DeleteCompleted, DeleteTodo, TodoList, UpdateTodo } from './todo-list';
import { TodoView } from './todo-view';
import { TodoViewProjection } from './todo-view-projection';

describe('todo example: the CQRS view follows the aggregate through the server feed', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance;
  let manager: SubscriptionManager | undefined;
  let todoView: PostgresProjection<TodoViewProjection>;

  beforeAll(async () => {
    db = testDatabase('todo');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    app = buildApp({ store, closeStore: false, defaultMetrics: false });
  });

  afterAll(async () => {
    await manager?.stop();
    await todoView?.close();
    if (todoView) await db.pool.query(`DROP SCHEMA IF EXISTS "${todoView.schema}" CASCADE`);
    // An aborted long poll can leave a connection the server does not see as idle; do not wait for it.
    app.server.closeAllConnections();
    await app.close();
    await store.close();
    await db.drop();
  });

  it('shows every change of two lists, including the todos one DeleteCompleted removes with many events', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const lists = new AggregateRepository(TodoList, new HttpEventStore({ url }));
    const { connectionString } = db;
    const schema = `${db.schema}_view`;
    // #region projection-wiring
    // The view's tables and its position in the feed, in its schema: each change commits with the position it reached.
    todoView = postgresProjection(new TodoViewProjection(), { connectionString, schema });
    const deadLetters = memoryDeadLetters(); // this test's; postgresDeadLetters({ connectionString }) for a view that outlives the process
    manager = new SubscriptionManager({
      source: feedSource({ url, cursorStore: memoryCursorStore() }), // the cursors of plain subscribers; the projection keeps its own
      deadLetters,
      subscribers: [todoView],
      logger: pino({ level: 'silent' }),
    });
    // #endregion
    await manager.start();
    const view = new TodoView(db.pool, todoView.schema);

    const matchesAggregate = async (listId: string) => {
      const { entity, entityVersion } = await lists.find(listId);
      await todoView.waitFor({ entityType: lists.entityType, entityId: listId, entityVersion }, { timeoutMs: 20_000 });
      const fromView = (await view.todosOf(listId)).map(({ todoId, listName, title, completed }) => ({ todoId, listName, title, completed }));
      const fromAggregate = Object.entries(entity.todos).map(([todoId, todo]) => ({ todoId, listName: entity.name, ...todo }));
      expect(fromView).toEqual(fromAggregate);
      return fromView;
    };

    const { entityId: home } = await lists.save(new CreateTodoList('home'));
    const { entityId: work } = await lists.save(new CreateTodoList('work'));
    const adds = ['milk', 'bread', 'eggs', 'coffee', 'tea'].map((title) => new AddTodo(title));
    await Promise.all([
      (async () => {
        for (const add of adds) await lists.update(home, add);
      })(),
      lists.update(work, new AddTodo('report', 'w1')),
    ]);
    await lists.update(home, new UpdateTodo(adds[1].todoId, 'rye bread'));
    for (const done of [adds[0], adds[2], adds[4]]) await lists.update(home, new CompleteTodo(done.todoId));
    await lists.update(work, new CompleteTodo('w1'));
    expect((await matchesAggregate(home)).filter((t) => t.completed).map((t) => t.title)).toEqual(['milk', 'eggs', 'tea']);

    const bulk = await lists.update(home, new DeleteCompleted());
    expect(bulk.eventIds).toHaveLength(3);
    expect((await matchesAggregate(home)).map((t) => t.title)).toEqual(['rye bread', 'coffee']);
    await lists.update(home, new DeleteTodo(adds[3].todoId));
    expect((await matchesAggregate(home)).map((t) => t.title)).toEqual(['rye bread']);
    // The other list is untouched by the bulk delete of the first.
    expect(await matchesAggregate(work)).toEqual([{ todoId: 'w1', listName: 'work', title: 'report', completed: true }]);
    expect((await view.openTodos()).map((t) => t.title)).toEqual(['rye bread']);
    expect(await deadLetters.list('todo_view')).toEqual([]);
  });
});
