import type { FastifyInstance } from 'fastify';
import { parseInstant } from '../query-params';
import { getEventSchema, historySchema, listEntitiesSchema, listTypesSchema, loadEntitySchema } from '../schemas';
import type { ServerStore } from '../server-store';

interface TypeParams {
  entityType: string;
}
interface EntityParams extends TypeParams {
  entityId: string;
}

export function registerEntityReadRoutes(app: FastifyInstance, { store }: { store: ServerStore }): void {
  app.get<{ Params: EntityParams; Querystring: { toVersion?: number; asOf?: string; snapshot?: boolean } }>(
    '/entity/:entityType/:entityId',
    { schema: loadEntitySchema },
    async (request) => {
      const { entityType, entityId } = request.params;
      const { toVersion, asOf, snapshot } = request.query;
      return store.load(entityType, entityId, { toVersion, asOf: parseInstant(asOf, 'asOf'), useSnapshot: snapshot });
    },
  );

  app.get<{ Params: EntityParams; Querystring: { fromVersion?: number; limit?: number } }>(
    '/entity/:entityType/:entityId/history',
    { schema: historySchema },
    async (request) => {
      const { entityType, entityId } = request.params;
      return store.history(entityType, entityId, request.query);
    },
  );

  app.get<{ Params: TypeParams; Querystring: { after?: string; prefix?: string; limit?: number } }>(
    '/entity/:entityType',
    { schema: listEntitiesSchema },
    async (request) => store.listEntities(request.params.entityType, request.query),
  );

  app.get<{ Params: { eventId: string } }>('/events/:eventId', { schema: getEventSchema }, async (request) => store.getEvent(request.params.eventId));

  app.get('/types', { schema: listTypesSchema }, async () => ({ types: await store.listEntityTypes() }));
}
