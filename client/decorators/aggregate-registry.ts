import 'reflect-metadata';
import { entityTypeRegex, eventTypeRegex } from '../../src/names';
import { RegistrationError, describeClass } from '../registration-error';
import { checkSnapshotStrategy, type SnapshotStrategy } from '../snapshot-strategy';
import { eventTypeInfoOf, type EventClass } from './event-registry';

export interface AggregateOptions<A = any> {
  /** When to store a snapshot with an append; none by default. */
  snapshots?: SnapshotStrategy<A>;
  /**
   * Bump when the aggregate's fields change shape: snapshots written under another version are
   * ignored and the entity is rebuilt from its events. Default 1.
   */
  snapshotVersion?: number;
  /**
   * Stored event types this aggregate knows it has no @Apply for and means to pass over in
   * replays (and may emit without applying). Any other type without an @Apply is an error, so a
   * renamed or forgotten event never replays silently into a wrong state (Eventuate's
   * MissingApplyEventMethodStrategy, opt-in per type).
   */
  ignoredEventTypes?: string[];
}

export type AggregateClass<A = any> = new () => A;

type Handler = (this: any, argument: any) => unknown;

export interface ProcessHandler {
  methodName: string;
  commandClass: Function;
  method: Handler;
}

/** Everything the repository needs about one aggregate class, resolved once at @Aggregate. */
export interface AggregateModel<A = any> {
  aggregateClass: AggregateClass<A>;
  /** The stored entity type. */
  entityType: string;
  snapshots?: SnapshotStrategy<A>;
  /** What snapshots of this class are stored as; differs per snapshotVersion. */
  snapshotType: string;
  /** Event type name → the @Apply method. */
  applyHandlers: Map<string, Handler>;
  /** Command class → its @Process method. */
  processHandlers: Map<Function, ProcessHandler>;
  /** Event types replays pass over on purpose (AggregateOptions.ignoredEventTypes). */
  ignoredEventTypes: ReadonlySet<string>;
}

interface MethodDeclaration {
  methodName: string;
  /** The class given to the decorator; absent: read from the parameter's design type. */
  explicitClass?: Function;
}

interface DeclaredHandlers {
  applies: MethodDeclaration[];
  processes: MethodDeclaration[];
}

/** Declarations by the prototype that holds the decorated methods, read at @Aggregate. */
const declaredByPrototype = new WeakMap<object, DeclaredHandlers>();
const modelsByClass = new Map<Function, AggregateModel>();
const classesByEntityType = new Map<string, Function>();

function declaredOn(prototype: object): DeclaredHandlers {
  let declared = declaredByPrototype.get(prototype);
  if (!declared) {
    declared = { applies: [], processes: [] };
    declaredByPrototype.set(prototype, declared);
  }
  return declared;
}

function checkMethod(decorator: string, prototype: object, methodName: string | symbol, descriptor?: PropertyDescriptor): string {
  const where = `${decorator} on ${describeClass(prototype.constructor)}.${String(methodName)}`;
  if (typeof methodName !== 'string') throw new RegistrationError(`${where}: decorated methods need string names`);
  if (typeof descriptor?.value !== 'function') throw new RegistrationError(`${where}: only methods can be decorated`);
  return methodName;
}

export function declareApply(prototype: object, methodName: string | symbol, descriptor: PropertyDescriptor | undefined, eventClass?: EventClass): void {
  const name = checkMethod('@Apply', prototype, methodName, descriptor);
  declaredOn(prototype).applies.push({ methodName: name, explicitClass: eventClass });
}

export function declareProcess(prototype: object, methodName: string | symbol, descriptor: PropertyDescriptor | undefined, commandClass?: Function): void {
  const name = checkMethod('@Process', prototype, methodName, descriptor);
  declaredOn(prototype).processes.push({ methodName: name, explicitClass: commandClass });
}

/** The class a handler takes: the one given to the decorator, else the first parameter's design type. */
function handledClass(decorator: string, kind: string, prototype: object, declaration: MethodDeclaration, aggregateName: string): Function {
  if (declaration.explicitClass !== undefined) {
    if (typeof declaration.explicitClass !== 'function') {
      throw new RegistrationError(
        `${decorator}(${String(declaration.explicitClass)}) on ${aggregateName}.${declaration.methodName}: the ${kind} class is undefined ` +
          '(a circular import, or a class used before its declaration?)',
      );
    }
    return declaration.explicitClass;
  }
  const parameterTypes: unknown[] | undefined = Reflect.getMetadata('design:paramtypes', prototype, declaration.methodName);
  const parameterType = parameterTypes?.[0];
  if (typeof parameterType !== 'function' || parameterType === Object) {
    const found =
      parameterTypes === undefined
        ? 'no design:paramtypes metadata'
        : parameterTypes.length === 0
          ? 'the method has no parameter'
          : parameterType === undefined
            ? 'parameter type undefined: a circular import, or a class used before its declaration?'
            : `parameter type ${describeClass(parameterType as Function)}`;
    throw new RegistrationError(
      `${decorator}() on ${aggregateName}.${declaration.methodName}: cannot read the ${kind} class (${found}); ` +
        `type the parameter with ${kind === 'event' ? 'an' : 'a'} ${kind} class, not an interface or union, or name it: ${decorator}(${kind === 'event' ? 'EventClass' : 'CommandClass'})` +
        (parameterTypes === undefined ? '; is emitDecoratorMetadata on?' : ''),
    );
  }
  return parameterType;
}

/** The prototypes from the aggregate class up to (not including) Object.prototype. */
function prototypeChain(aggregateClass: Function): object[] {
  const chain: object[] = [];
  for (let prototype = aggregateClass.prototype; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    chain.push(prototype);
  }
  return chain;
}

export function registerAggregate<A>(aggregateClass: AggregateClass<A>, entityType: string, options: AggregateOptions<A> = {}): void {
  const className = describeClass(aggregateClass);
  const where = `@Aggregate('${entityType}') on class ${className}`;
  if (typeof entityType !== 'string' || !entityTypeRegex.test(entityType)) {
    throw new RegistrationError(`${where}: '${entityType}' is not a valid entity type name (${entityTypeRegex.source})`);
  }
  const existing = classesByEntityType.get(entityType);
  if (existing && existing !== aggregateClass) {
    throw new RegistrationError(`${where}: entity type '${entityType}' is already used by class ${describeClass(existing)}`);
  }
  checkSnapshotStrategy(options.snapshots, where);
  const snapshotVersion = options.snapshotVersion ?? 1;
  if (!Number.isInteger(snapshotVersion) || snapshotVersion < 1) {
    throw new RegistrationError(`${where}: snapshotVersion must be an integer ≥ 1, not ${snapshotVersion}`);
  }

  const ignoredEventTypes = new Set(options.ignoredEventTypes ?? []);
  for (const typeName of ignoredEventTypes) {
    if (typeof typeName !== 'string' || !eventTypeRegex.test(typeName)) {
      throw new RegistrationError(`${where}: ignoredEventTypes holds ${JSON.stringify(typeName)}, which is not an event type name (${eventTypeRegex.source})`);
    }
  }
  const applyHandlers = new Map<string, Handler>();
  const applyMethodByType = new Map<string, string>();
  const processHandlers = new Map<Function, ProcessHandler>();
  const seenMethods = new Set<string>();
  for (const prototype of prototypeChain(aggregateClass)) {
    const declared = declaredByPrototype.get(prototype);
    if (!declared) continue;
    // A subclass that re-decorates a method replaces the base class's declaration of it.
    const applies = declared.applies.filter((declaration) => !seenMethods.has(declaration.methodName));
    const processes = declared.processes.filter((declaration) => !seenMethods.has(declaration.methodName));
    for (const declaration of applies) {
      const eventClass = handledClass('@Apply', 'event', prototype, declaration, className);
      const info = eventTypeInfoOf(eventClass);
      if (!info) {
        throw new RegistrationError(
          `@Apply on ${className}.${declaration.methodName}: event class ${describeClass(eventClass)} has no @DomainEvent`,
        );
      }
      const other = applyMethodByType.get(info.typeName);
      if (other !== undefined) {
        throw new RegistrationError(
          `class ${className}: methods ${other} and ${declaration.methodName} both @Apply event ${describeClass(eventClass)} ('${info.typeName}')`,
        );
      }
      applyMethodByType.set(info.typeName, declaration.methodName);
      applyHandlers.set(info.typeName, aggregateClass.prototype[declaration.methodName]);
    }
    for (const declaration of processes) {
      const commandClass = handledClass('@Process', 'command', prototype, declaration, className);
      const other = processHandlers.get(commandClass);
      if (other !== undefined) {
        throw new RegistrationError(
          `class ${className}: methods ${other.methodName} and ${declaration.methodName} both @Process command ${describeClass(commandClass)}`,
        );
      }
      processHandlers.set(commandClass, {
        methodName: declaration.methodName,
        commandClass,
        method: aggregateClass.prototype[declaration.methodName],
      });
    }
    for (const declaration of [...applies, ...processes]) seenMethods.add(declaration.methodName);
  }

  for (const typeName of ignoredEventTypes) {
    if (applyHandlers.has(typeName)) {
      throw new RegistrationError(`${where}: ignoredEventTypes lists '${typeName}', which ${className}.${applyMethodByType.get(typeName)} @Applies`);
    }
  }

  classesByEntityType.set(entityType, aggregateClass);
  modelsByClass.set(aggregateClass, {
    aggregateClass,
    entityType,
    snapshots: options.snapshots,
    snapshotType: snapshotVersion === 1 ? entityType : `${entityType}.v${snapshotVersion}`,
    applyHandlers,
    processHandlers,
    ignoredEventTypes,
  });
}

export function aggregateModelOf<A>(aggregateClass: AggregateClass<A>): AggregateModel<A> {
  const model = modelsByClass.get(aggregateClass);
  if (!model) {
    throw new RegistrationError(`class ${describeClass(aggregateClass)} is not an aggregate: it has no @Aggregate`);
  }
  return model as AggregateModel<A>;
}

/** The class registered for an entity type, if any (subscribers use it to rebuild entities). */
export function aggregateClassFor(entityType: string): AggregateClass | undefined {
  return classesByEntityType.get(entityType) as AggregateClass | undefined;
}

/** The entity types whose @Aggregate classes @Apply the event type: where subscribers find its events. */
export function entityTypesApplying(eventType: string): string[] {
  return [...modelsByClass.values()].filter((model) => model.applyHandlers.has(eventType)).map((model) => model.entityType);
}
