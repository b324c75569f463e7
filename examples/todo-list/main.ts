/**
 * npm run example:todo — a todo list changed through its aggregate on a running server
 * (EVENTUATE_URL, default http://localhost:8080) and read back from a CQRS view, a projection in
 * PostgreSQL run here.
 */
import pino from 'pino';
import { AggregateRepository, HttpEventStore, postgresDeadLetters, postgresProjection, SubscriptionManager } from 'eventuate-local-ts/client';
import { exampleSource } from '../support/example-source';
import { eventStoreUrl, runExample } from '../support/run-example';
import { openViewDatabase } from '../support/view-database';
import { AddTodo, CompleteTodo, CreateTodoList, DeleteCompleted, TodoList, UpdateTodo } from './todo-list';
import { todoTable } from './todo-scenario';
import { TodoView } from './todo-view';
import { TodoViewProjection } from './todo-view-projection';

runExample(async () => {
  const url = eventStoreUrl();
  const server = { url, apiKey: process.env.EVENTUATE_API_KEY };
  const lists = new AggregateRepository(TodoList, new HttpEventStore(server));
  const database = await openViewDatabase();
  const source = await exampleSource(server, ['TodoList']);
  const todoView = postgresProjection(new TodoViewProjection(), { pool: database.pool });
  const view = new TodoView(database.pool, todoView.schema);
  const deadLetters = postgresDeadLetters({ connectionString: database.connectionString });
  const manager = new SubscriptionManager({
    source,
    deadLetters,
    subscribers: [todoView],
    logger: pino({ level: process.env.LOG_LEVEL || 'warn' }),
  });
  try {
    await manager.start();
    console.log(`event store: ${url}\nevents from: ${source.description}\nview in: ${database.description}\n`);

    const { entityId: listId } = await lists.save(new CreateTodoList('groceries'));
    const [milk, bread, eggs, coffee] = [new AddTodo('milk'), new AddTodo('bread'), new AddTodo('eggs'), new AddTodo('coffee')];
    for (const add of [milk, bread, eggs, coffee]) await lists.update(listId, add);
    await lists.update(listId, new UpdateTodo(bread.todoId, 'rye bread'));
    await lists.update(listId, new CompleteTodo(milk.todoId));
    const beforeDelete = await lists.update(listId, new CompleteTodo(eggs.todoId));
    await todoView.waitFor(beforeDelete, { timeoutMs: 30_000 }); // read your writes: the view shows the list as this write left it
    console.log(`the view after 4 adds, 1 update, 2 completes (list version ${beforeDelete.entityVersion}):\n${todoTable(await view.todosOf(listId))}\n`);

    const deleted = await lists.update(listId, new DeleteCompleted());
    await todoView.waitFor(deleted, { timeoutMs: 30_000 });
    console.log(
      `DeleteCompleted: one command, ${deleted.eventIds.length} TodoDeleted events (list version ${deleted.entityVersion}); the view now:\n` +
        todoTable(await view.todosOf(listId)),
    );
  } finally {
    await manager.stop();
    await deadLetters.close?.();
    await database.close();
  }
});
