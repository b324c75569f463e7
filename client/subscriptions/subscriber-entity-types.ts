import { entityTypesApplying } from '../decorators/aggregate-registry';
import type { SubscriberModel } from '../decorators/event-subscriber';
import { RegistrationError, describeClass } from '../registration-error';

/** The subscriber's declared entity types, or those of the aggregates that apply its events. */
export function entityTypesOf(model: SubscriberModel): string[] {
  if (model.explicitEntityTypes?.length) return [...new Set(model.explicitEntityTypes)];
  const types = new Set<string>();
  const unplaced: string[] = [];
  for (const eventType of model.handlers.keys()) {
    const applying = entityTypesApplying(eventType);
    if (applying.length === 0) unplaced.push(eventType);
    applying.forEach((type) => types.add(type));
  }
  if (unplaced.length > 0) throw new RegistrationError(unplacedEventsMessage(model, unplaced));
  return [...types].sort();
}

/**
 * The entity type an event belongs to is known only from an @Aggregate that @Applies it. When none
 * does, the @Apply is as likely missing (or the aggregate's module not loaded) as the entity types
 * undeclared, so the message names both fixes.
 */
function unplacedEventsMessage(model: SubscriberModel, unplaced: string[]): string {
  const where = `@EventSubscriber('${model.subscriberId}') on class ${describeClass(model.subscriberClass)}`;
  const handled = unplaced.map((eventType) => `${model.handlers.get(eventType)}() handles '${eventType}'`).join(', ');
  const types = unplaced.map((eventType) => `'${eventType}'`).join(', ');
  return (
    `${where}: ${handled}, but no registered @Aggregate class has an @Apply method for ${types}, ` +
    `so the entity types (Kafka topics, feed filter) that carry ${unplaced.length === 1 ? 'it' : 'them'} are unknown. Either ` +
    `(1) add an @Apply method for ${types} to the @Aggregate class whose @Process methods emit ${unplaced.length === 1 ? 'it' : 'them'} ` +
    `(and import that class's module before start(): an @Aggregate registers when its module loads), or ` +
    `(2) declare the entity types on the subscriber: @EventSubscriber('${model.subscriberId}', { entityTypes: ['<the emitting aggregate's entity type>'] }).`
  );
}
