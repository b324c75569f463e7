import { randomUUID } from 'node:crypto';
import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';

export class CreateTodoList {
  constructor(public name: string) {}
}

export class AddTodo {
  /** The id is chosen by the caller, so a retried command names the same todo. */
  constructor(
    public title: string,
    public todoId: string = randomUUID(),
  ) {}
}

export class UpdateTodo {
  constructor(
    public todoId: string,
    public title: string,
  ) {}
}

export class CompleteTodo {
  constructor(public todoId: string) {}
}

export class DeleteTodo {
  constructor(public todoId: string) {}
}

/** One command, many events: a TodoDeleted for each completed todo. */
export class DeleteCompleted {}

@DomainEvent('TodoListCreated')
export class TodoListCreated {
  constructor(public name: string) {}
}

@DomainEvent('TodoAdded')
export class TodoAdded {
  constructor(
    public todoId: string,
    public title: string,
  ) {}
}

@DomainEvent('TodoUpdated')
export class TodoUpdated {
  constructor(
    public todoId: string,
    public title: string,
  ) {}
}

@DomainEvent('TodoCompleted')
export class TodoCompleted {
  constructor(public todoId: string) {}
}

@DomainEvent('TodoDeleted')
export class TodoDeleted {
  constructor(public todoId: string) {}
}

export interface Todo {
  title: string;
  completed: boolean;
}

export class UnknownTodoError extends Error {
  constructor(readonly todoId: string) {
    super(`no todo ${todoId} in this list`);
  }
}

@Aggregate('TodoList')
export class TodoList {
  name = '';
  todos: Record<string, Todo> = {};

  @Process()
  create(command: CreateTodoList) {
    return new TodoListCreated(requireTitle(command.name));
  }

  @Process()
  add(command: AddTodo) {
    return this.todos[command.todoId] ? [] : [new TodoAdded(command.todoId, requireTitle(command.title))];
  }

  @Process()
  update(command: UpdateTodo) {
    const todo = this.existing(command.todoId);
    const title = requireTitle(command.title);
    return todo.title === title ? [] : [new TodoUpdated(command.todoId, title)];
  }

  @Process()
  complete(command: CompleteTodo) {
    return this.existing(command.todoId).completed ? [] : [new TodoCompleted(command.todoId)];
  }

  @Process()
  delete(command: DeleteTodo) {
    return this.todos[command.todoId] ? [new TodoDeleted(command.todoId)] : [];
  }

  @Process()
  deleteCompleted(_command: DeleteCompleted) {
    return Object.entries(this.todos)
      .filter(([, todo]) => todo.completed)
      .map(([todoId]) => new TodoDeleted(todoId));
  }

  @Apply()
  created(event: TodoListCreated) {
    this.name = event.name;
  }

  @Apply()
  added(event: TodoAdded) {
    this.todos[event.todoId] = { title: event.title, completed: false };
  }

  @Apply()
  updated(event: TodoUpdated) {
    this.todos[event.todoId].title = event.title;
  }

  @Apply()
  completed(event: TodoCompleted) {
    this.todos[event.todoId].completed = true;
  }

  @Apply()
  deleted(event: TodoDeleted) {
    delete this.todos[event.todoId];
  }

  private existing(todoId: string): Todo {
    const todo = this.todos[todoId];
    if (!todo) throw new UnknownTodoError(todoId);
    return todo;
  }
}

function requireTitle(title: string): string {
  const trimmed = title.trim();
  if (trimmed === '' || trimmed.length > 200) throw new RangeError('a title has 1 to 200 characters');
  return trimmed;
}
