import type { Pool } from 'pg';
import type { Todo } from './todo-list';

export interface TodoViewRow extends Todo {
  todoId: string;
  listId: string;
  listName: string;
}

/** Reads what TodoViewProjection keeps, in its schema (postgresProjection's `schema`, by default the projection's name). */
export class TodoView {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** A list's todos in the order they were added. */
  async todosOf(listId: string): Promise<TodoViewRow[]> {
    return this.select(`WHERE t.list_id = $1`, [listId]);
  }

  /** The todos not yet completed, of every list: a query the command side cannot answer without loading every list. */
  async openTodos(): Promise<TodoViewRow[]> {
    return this.select(`WHERE NOT t.completed`, []);
  }

  private async select(where: string, params: unknown[]): Promise<TodoViewRow[]> {
    const { rows } = await this.pool.query(
      `SELECT t.todo_id, t.list_id, l.name AS list_name, t.title, t.completed
         FROM "${this.schema}".todos t JOIN "${this.schema}".todo_lists l USING (list_id)
        ${where} ORDER BY t.line`,
      params,
    );
    return rows.map((r) => ({ todoId: r.todo_id, listId: r.list_id, listName: r.list_name, title: r.title, completed: r.completed }));
  }
}
