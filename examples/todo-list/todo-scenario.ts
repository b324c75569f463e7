import { formatTable } from '../support/table';
import type { TodoViewRow } from './todo-view';

export function todoTable(rows: TodoViewRow[]): string {
  if (rows.length === 0) return '(no todos)';
  return formatTable(
    ['list', 'todo', 'done'],
    rows.map((row) => [row.listName, row.title, row.completed ? 'yes' : 'no']),
  );
}
