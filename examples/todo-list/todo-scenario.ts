import { formatTable } from '../support/table';
import type { TodoView, TodoViewRow } from './todo-view';

/** Polls until the view has applied the list up to `version` (the command side's version after a write). */
export async function viewReached(view: TodoView, listId: string, version: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (view.versionOf(listId) < version) {
    if (Date.now() > deadline) throw new Error(`the todo view is at version ${view.versionOf(listId)} of list ${listId}, not ${version}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function todoTable(rows: TodoViewRow[]): string {
  if (rows.length === 0) return '(no todos)';
  return formatTable(
    ['list', 'todo', 'done'],
    rows.map((row) => [row.listName, row.title, row.completed ? 'yes' : 'no']),
  );
}
