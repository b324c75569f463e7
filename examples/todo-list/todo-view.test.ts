import { TodoView } from './todo-view';

describe('TodoView', () => {
  it('follows a list version by version, skipping redeliveries and refusing gaps', () => {
    const view = new TodoView();
    expect(view.apply('l1', 1, { kind: 'created', name: 'home' })).toBe(true);
    expect(view.apply('l1', 2, { kind: 'added', todoId: 't1', title: 'milk' })).toBe(true);
    expect(view.apply('l1', 3, { kind: 'added', todoId: 't2', title: 'bread' })).toBe(true);
    expect(view.apply('l1', 2, { kind: 'added', todoId: 't1', title: 'milk' })).toBe(false);
    expect(view.apply('l1', 4, { kind: 'completed', todoId: 't1' })).toBe(true);
    expect(view.apply('l1', 5, { kind: 'updated', todoId: 't2', title: 'rye bread' })).toBe(true);
    expect(() => view.apply('l1', 7, { kind: 'deleted', todoId: 't2' })).toThrow('got version 7 after 5');
    expect(view.todosOf('l1')).toEqual([
      { todoId: 't1', listId: 'l1', listName: 'home', title: 'milk', completed: true },
      { todoId: 't2', listId: 'l1', listName: 'home', title: 'rye bread', completed: false },
    ]);
    expect(view.apply('l1', 6, { kind: 'deleted', todoId: 't1' })).toBe(true);
    expect(view.openTodos().map((t) => t.todoId)).toEqual(['t2']);
    expect(view.versionOf('l1')).toBe(6);
  });
});
