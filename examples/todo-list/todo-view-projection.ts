import type { PoolClient } from 'pg';
import { EventHandlerMethod, Projection, type ProjectionContext } from 'eventuate-local-ts/client';
import { TodoAdded, TodoCompleted, TodoDeleted, TodoListCreated, TodoUpdated } from './todo-list';

/**
 * The query side of the todo example: every todo of every list, in PostgreSQL, kept from the
 * command side's events. The projection runtime applies each event once (a redelivery is passed
 * over by the list's version before a handler runs), so the handlers are plain SQL.
 */
@Projection('todo_view')
export class TodoViewProjection {
  /** Unqualified names: the runtime creates them in the projection's schema. */
  async createTables(db: PoolClient) {
    await db.query(`
      CREATE TABLE todo_lists (
        list_id text PRIMARY KEY,
        name text NOT NULL
      );
      CREATE TABLE todos (
        -- The order added, which within a list is the order of its events.
        line bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        list_id text NOT NULL REFERENCES todo_lists,
        todo_id text NOT NULL,
        title text NOT NULL,
        completed boolean NOT NULL DEFAULT false,
        UNIQUE (list_id, todo_id)
      )`);
  }

  @EventHandlerMethod(TodoListCreated)
  async created({ db, entityId, event }: ProjectionContext<TodoListCreated>) {
    await db.query(`INSERT INTO todo_lists (list_id, name) VALUES ($1, $2)`, [entityId, event.name]);
  }

  @EventHandlerMethod(TodoAdded)
  async added({ db, entityId, event }: ProjectionContext<TodoAdded>) {
    await db.query(`INSERT INTO todos (list_id, todo_id, title) VALUES ($1, $2, $3)`, [entityId, event.todoId, event.title]);
  }

  @EventHandlerMethod(TodoUpdated)
  async updated(ctx: ProjectionContext<TodoUpdated>) {
    await changeTodo(ctx, `UPDATE todos SET title = $3 WHERE list_id = $1 AND todo_id = $2`, [ctx.event.title]);
  }

  @EventHandlerMethod(TodoCompleted)
  async completed(ctx: ProjectionContext<TodoCompleted>) {
    await changeTodo(ctx, `UPDATE todos SET completed = true WHERE list_id = $1 AND todo_id = $2`);
  }

  @EventHandlerMethod(TodoDeleted)
  async deleted(ctx: ProjectionContext<TodoDeleted>) {
    await changeTodo(ctx, `DELETE FROM todos WHERE list_id = $1 AND todo_id = $2`);
  }
}

/**
 * Runs a statement on the event's todo ($1 the list, $2 the todo) and insists it found it: like the
 * aggregate, which cannot apply a change to a todo it does not hold, the view fails (its list is then
 * parked, visibly) rather than pass over the change.
 */
async function changeTodo(ctx: ProjectionContext<{ todoId: string }>, sql: string, params: unknown[] = []): Promise<void> {
  const { rowCount } = await ctx.db.query(sql, [ctx.entityId, ctx.event.todoId, ...params]);
  if (rowCount !== 1) throw new Error(`${ctx.eventType} of todo ${ctx.event.todoId}, which the view does not hold in list ${ctx.entityId} (version ${ctx.entityVersion})`);
}
