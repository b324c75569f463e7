import type { FastifyInstance } from 'fastify';
import { parseInstant } from '../query-params';
import { getEventSchema, historySchema, listEntitiesSchema, listTypesSchema, loadEntitySchema } from '../schemas';
import { eventJson } from '../event-json';
import { historyPageJson, loadedEntityJson, sendJson } from '../read-answers';
import { answerReads, ServerStore } from '../server-store';

interface TypeParams {
  entityType: string;
}
interface EntityParams extends TypeParams {
  entityId: string;
}

export function registerEntityReadRoutes(app: FastifyInstance, { store }: { store: ServerStore }): void {
  // The reads that carry events answer with text made from the store's JSON text (read-answers.ts).
  const reads = answerReads(store);
  app.get<{ Params: EntityParams; Querystring: { toVersion?: number; asOf?: string; snapshot?: boolean } }>(
    '/entity/:entityType/:entityId',
    { schema: loadEntitySchema },
    async (request, reply) => {
      const { entityType, entityId } = request.params;
      const { toVersion, asOf, snapshot } = request.query;
      const loaded = await reads.load(entityType, entityId, { toVersion, asOf: parseInstant(asOf, 'asOf'), useSnapshot: snapshot });
      return sendJson(reply, loadedEntityJson(loaded));
    },
  );

  app.get<{ Params: EntityParams; Querystring: { fromVersion?: number; limit?: number } }>(
    '/entity/:entityType/:entityId/history',
    { schema: historySchema },
    async (request, reply) => {
      const { entityType, entityId } = request.params;
      return sendJson(reply, historyPageJson(await reads.history(entityType, entityId, request.query)));
    },
  );

  app.get<{ Params: TypeParams; Querystring: { after?: string; prefix?: string; limit?: number } }>(
    '/entity/:entityType',
    { schema: listEntitiesSchema },
    async (request) => store.listEntities(request.params.entityType, request.query),
  );

  app.get<{ Params: { eventId: string } }>('/events/:eventId', { schema: getEventSchema }, async (request, reply) =>
    sendJson(reply, eventJson(await reads.getEvent(request.params.eventId))),
  );

  app.get('/types', { schema: listTypesSchema }, async () => ({ types: await store.listEntityTypes() }));
}
