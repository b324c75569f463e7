import type { Todo } from './todo-list';

export interface TodoViewRow extends Todo {
  todoId: string;
  listId: string;
  listName: string;
}

/** What one TodoList event changes in the view, identified by the list's version. */
export type TodoListChange =
  | { kind: 'created'; name: string }
  | { kind: 'added'; todoId: string; title: string }
  | { kind: 'updated'; todoId: string; title: string }
  | { kind: 'completed'; todoId: string }
  | { kind: 'deleted'; todoId: string };

/**
 * The query side of the todo example: every todo of every list, kept in memory by a subscriber.
 * Per list, events arrive in version order but possibly more than once, so an event at or below
 * the version last applied to its list is skipped.
 */
export class TodoView {
  private readonly todos = new Map<string, TodoViewRow>();
  private readonly lists = new Map<string, { name: string; version: number }>();

  /** false when the event was a redelivery. */
  apply(listId: string, version: number, change: TodoListChange): boolean {
    const list = this.lists.get(listId) ?? { name: '', version: 0 };
    if (version <= list.version) return false;
    // Cannot happen with per-entity ordered delivery; throwing makes the event come back later.
    if (version !== list.version + 1) throw new Error(`todo list ${listId}: got version ${version} after ${list.version}`);
    list.version = version;
    this.lists.set(listId, list);
    const todo = 'todoId' in change ? this.todos.get(change.todoId) : undefined;
    switch (change.kind) {
      case 'created':
        list.name = change.name;
        break;
      case 'added':
        this.todos.set(change.todoId, { todoId: change.todoId, listId, listName: list.name, title: change.title, completed: false });
        break;
      case 'updated':
        if (todo) todo.title = change.title;
        break;
      case 'completed':
        if (todo) todo.completed = true;
        break;
      case 'deleted':
        this.todos.delete(change.todoId);
        break;
    }
    return true;
  }

  /** The version of the list the view has reached (0: unseen). */
  versionOf(listId: string): number {
    return this.lists.get(listId)?.version ?? 0;
  }

  todosOf(listId: string): TodoViewRow[] {
    return [...this.todos.values()].filter((todo) => todo.listId === listId);
  }

  openTodos(): TodoViewRow[] {
    return [...this.todos.values()].filter((todo) => !todo.completed);
  }
}
