/**
 * npm run example:todo — a todo list changed through its aggregate on a running server
 * (EVENTUATE_URL, default http://localhost:8080) and read back from a CQRS view kept here by a subscriber.
 */
import pino from 'pino';
import { AggregateRepository, HttpEventStore, memoryDeadLetters, SubscriptionManager } from 'eventuate-local-ts/client';
import { exampleSource } from '../support/example-source';
import { eventStoreUrl, runExample } from '../support/run-example';
import { AddTodo, CompleteTodo, CreateTodoList, DeleteCompleted, TodoList, UpdateTodo } from './todo-list';
import { todoTable, viewReached } from './todo-scenario';
import { TodoView } from './todo-view';
import { TodoViewProjection } from './todo-view-projection';

runExample(async () => {
  const url = eventStoreUrl();
  const server = { url, apiKey: process.env.EVENTUATE_API_KEY };
  const lists = new AggregateRepository(TodoList, new HttpEventStore(server));
  const view = new TodoView();
  const source = await exampleSource(server, ['TodoList']);
  const manager = new SubscriptionManager({
    source,
    deadLetters: memoryDeadLetters(),
    subscribers: [new TodoViewProjection(view)],
    logger: pino({ level: process.env.LOG_LEVEL || 'warn' }),
  });
  try {
    await manager.start();
    console.log(`event store: ${url}\nevents from: ${source.description}\n`);

    const { entityId: listId } = await lists.save(new CreateTodoList('groceries'));
    const [milk, bread, eggs, coffee] = [new AddTodo('milk'), new AddTodo('bread'), new AddTodo('eggs'), new AddTodo('coffee')];
    for (const add of [milk, bread, eggs, coffee]) await lists.update(listId, add);
    await lists.update(listId, new UpdateTodo(bread.todoId, 'rye bread'));
    await lists.update(listId, new CompleteTodo(milk.todoId));
    const beforeDelete = await lists.update(listId, new CompleteTodo(eggs.todoId));
    await viewReached(view, listId, beforeDelete.entityVersion, 30_000);
    console.log(`the view after 4 adds, 1 update, 2 completes (list version ${beforeDelete.entityVersion}):\n${todoTable(view.todosOf(listId))}\n`);

    const deleted = await lists.update(listId, new DeleteCompleted());
    await viewReached(view, listId, deleted.entityVersion, 30_000);
    console.log(
      `DeleteCompleted: one command, ${deleted.eventIds.length} TodoDeleted events (list version ${deleted.entityVersion}); the view now:\n` +
        todoTable(view.todosOf(listId)),
    );
  } finally {
    await manager.stop();
  }
});
