import type { FastifyInstance } from 'fastify';
import type { AppendResult, EventToAppend, SnapshotToSave } from '../../src/model';
import type { InFlight } from '../in-flight';
import type { ServerMetrics } from '../metrics';
import { checkEventsFitKafka } from '../relay/message-size';
import { appendEventsSchema, createEntitySchema, saveSnapshotSchema } from '../schemas';
import type { ServerStore } from '../server-store';

interface TypeParams {
  entityType: string;
}
interface EntityParams extends TypeParams {
  entityId: string;
}
interface CreateBody {
  entityId?: string;
  events: EventToAppend[];
  triggeringEventToken?: string;
  snapshot?: SnapshotToSave;
}
interface AppendBody {
  entityVersion: number;
  events: EventToAppend[];
  triggeringEventToken?: string;
  snapshot?: SnapshotToSave;
}
interface SnapshotBody extends SnapshotToSave {
  entityVersion: number;
}

export interface EntityWriteDeps {
  store: ServerStore;
  metrics: ServerMetrics;
  /** Writes are tracked so a graceful shutdown lets them finish before closing the store. */
  writes: InFlight;
  /** Events whose Kafka message would be larger are refused (413), since the relay could not publish them. */
  maxEventMessageBytes?: number;
}

/** The fields of an event the store takes; anything else a client sent is not passed on. */
function eventsOf(events: EventToAppend[]): EventToAppend[] {
  return events.map(({ eventId, eventType, eventData, metadata }) => ({ eventId, eventType, eventData, metadata }));
}

export function registerEntityWriteRoutes(app: FastifyInstance, { store, metrics, writes, maxEventMessageBytes }: EntityWriteDeps): void {
  const checkSizes = (entityType: string, entityId: string | undefined, events: EventToAppend[]) => {
    if (maxEventMessageBytes !== undefined) checkEventsFitKafka(entityType, entityId, events, maxEventMessageBytes);
  };
  const counted = (result: AppendResult) => {
    metrics.appendedEvents.inc({ entity_type: result.entityType }, result.eventIds.length);
    return result;
  };

  app.post<{ Params: TypeParams; Body: CreateBody }>('/entity/:entityType', { schema: createEntitySchema }, async (request, reply) => {
    const { entityId, events, triggeringEventToken, snapshot } = request.body;
    checkSizes(request.params.entityType, entityId, events);
    const result = await writes.run(() =>
      store.create({ entityType: request.params.entityType, entityId, events: eventsOf(events), triggeringEventToken, snapshot }),
    );
    return reply.code(201).send(counted(result));
  });

  app.post<{ Params: EntityParams; Body: AppendBody }>('/entity/:entityType/:entityId', { schema: appendEventsSchema }, async (request) => {
    const { entityVersion, events, triggeringEventToken, snapshot } = request.body;
    const { entityType, entityId } = request.params;
    checkSizes(entityType, entityId, events);
    const result = await writes.run(() =>
      store.append({ entityType, entityId, expectedVersion: entityVersion, events: eventsOf(events), triggeringEventToken, snapshot }),
    );
    return counted(result);
  });

  app.post<{ Params: EntityParams; Body: SnapshotBody }>(
    '/entity/:entityType/:entityId/snapshots',
    { schema: saveSnapshotSchema },
    async (request, reply) => {
      const { entityType, entityId } = request.params;
      const { entityVersion, snapshotType, snapshotData } = request.body;
      await writes.run(() => store.saveSnapshot(entityType, entityId, entityVersion, { snapshotType, snapshotData }));
      return reply.code(201).send({ entityType, entityId, entityVersion });
    },
  );
}
