import { EventHandlerMethod, EventSubscriber, type EventHandlerContext } from 'eventuate-local-ts/client';
import { TodoAdded, TodoCompleted, TodoDeleted, TodoListCreated, TodoUpdated } from './todo-list';
import type { TodoListChange, TodoView } from './todo-view';

/** The command side's events, kept in the query side's TodoView; the view skips redeliveries by list version. */
@EventSubscriber('todoView')
export class TodoViewProjection {
  constructor(private readonly view: TodoView) {}

  @EventHandlerMethod(TodoListCreated)
  created(ctx: EventHandlerContext<TodoListCreated>) {
    this.apply(ctx, { kind: 'created', name: ctx.event.name });
  }

  @EventHandlerMethod(TodoAdded)
  added(ctx: EventHandlerContext<TodoAdded>) {
    this.apply(ctx, { kind: 'added', todoId: ctx.event.todoId, title: ctx.event.title });
  }

  @EventHandlerMethod(TodoUpdated)
  updated(ctx: EventHandlerContext<TodoUpdated>) {
    this.apply(ctx, { kind: 'updated', todoId: ctx.event.todoId, title: ctx.event.title });
  }

  @EventHandlerMethod(TodoCompleted)
  completed(ctx: EventHandlerContext<TodoCompleted>) {
    this.apply(ctx, { kind: 'completed', todoId: ctx.event.todoId });
  }

  @EventHandlerMethod(TodoDeleted)
  deleted(ctx: EventHandlerContext<TodoDeleted>) {
    this.apply(ctx, { kind: 'deleted', todoId: ctx.event.todoId });
  }

  private apply(ctx: EventHandlerContext, change: TodoListChange): void {
    this.view.apply(ctx.entityId, ctx.entityVersion, change);
  }
}
