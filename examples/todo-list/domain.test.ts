import { aggregateFixture } from 'eventuate-local-ts/testing';
import {
  AddTodo,
  CompleteTodo,
  CreateTodoList,
  DeleteCompleted,
  DeleteTodo,
  TodoAdded,
  TodoCompleted,
  TodoDeleted,
  TodoList,
  TodoListCreated,
  TodoUpdated,
  UnknownTodoError,
  UpdateTodo,
} from './todo-list';

describe('TodoList', () => {
  const list = () => aggregateFixture(TodoList).given(new TodoListCreated('home'), new TodoAdded('t1', 'milk'), new TodoAdded('t2', 'bread'));

  it('is created with a name and gets todos by the id the caller chose, once', () => {
    aggregateFixture(TodoList).when(new CreateTodoList(' home ')).expectEvents(new TodoListCreated('home'));
    list().when(new AddTodo('eggs', 't3')).expectEvents(new TodoAdded('t3', 'eggs'));
    list().when(new AddTodo('milk again', 't1')).expectNoEvents();
    list().when(new AddTodo('', 't3')).expectError(RangeError);
  });

  it('updates, completes and deletes a todo; unknown ids are refused', () => {
    list()
      .when(new UpdateTodo('t1', 'oat milk'))
      .expectEvents(new TodoUpdated('t1', 'oat milk'))
      .expectState((l) => expect(l.todos.t1).toEqual({ title: 'oat milk', completed: false }));
    list().when(new UpdateTodo('t1', 'milk')).expectNoEvents();
    list().when(new CompleteTodo('t2')).expectEvents(new TodoCompleted('t2'));
    list().given(new TodoCompleted('t2')).when(new CompleteTodo('t2')).expectNoEvents();
    list().when(new DeleteTodo('t1')).expectEvents(new TodoDeleted('t1'));
    list().when(new CompleteTodo('nope')).expectError(UnknownTodoError);
  });

  it('deletes every completed todo with one command, one event each', () => {
    list()
      .given(new TodoAdded('t3', 'eggs'), new TodoCompleted('t1'), new TodoCompleted('t3'))
      .when(new DeleteCompleted())
      .expectEvents(new TodoDeleted('t1'), new TodoDeleted('t3'))
      .expectState((l) => expect(Object.keys(l.todos)).toEqual(['t2']));
    list().when(new DeleteCompleted()).expectNoEvents();
  });
});
