import type { FastifyReply } from 'fastify';
import type { FeedPage, HistoryPage, LoadedEntity } from '../src/model';
import { AnswerEvent, AnswerSnapshot, eventsJsonParts, jsonBytes, snapshotJson } from './event-json';

/**
 * The answers of the reads that carry events, written as text: the events' JSON comes from the
 * store as it is (PostgresEventStore.jsonText) and goes into the answer without becoming objects.
 * The members are in the order of the response schemas (schemas.ts), as Fastify's serializer wrote
 * them; test/server/read-answers.test.ts holds the two to the same bytes and to the schemas.
 */

export function loadedEntityJson(loaded: LoadedEntity<AnswerEvent, AnswerSnapshot>): Buffer {
  return jsonBytes([
    `{"entityType":${JSON.stringify(loaded.entityType)},"entityId":${JSON.stringify(loaded.entityId)},` +
      `"entityVersion":${loaded.entityVersion},` +
      (loaded.snapshot === undefined ? '' : `"snapshot":${snapshotJson(loaded.snapshot)},`) +
      `"events":`,
    ...eventsJsonParts(loaded.events),
    '}',
  ]);
}

export function historyPageJson(page: HistoryPage<AnswerEvent>): Buffer {
  const snapshots = page.snapshots.map(
    (s) => `{"entityVersion":${s.entityVersion},"snapshotType":${JSON.stringify(s.snapshotType)},"createdAt":${JSON.stringify(s.createdAt)}}`,
  );
  return jsonBytes([
    `{"entityType":${JSON.stringify(page.entityType)},"entityId":${JSON.stringify(page.entityId)},` +
      `"entityVersion":${page.entityVersion},"events":`,
    ...eventsJsonParts(page.events),
    `,"snapshots":[${snapshots.join(',')}],"nextFromVersion":${page.nextFromVersion}}`,
  ]);
}

/** The feed tail hands its events to many readers: their text is made once (sharedEventJson). */
export function feedPageJson(page: FeedPage<AnswerEvent>): Buffer {
  return jsonBytes(['{"events":', ...eventsJsonParts(page.events, true), `,"cursor":${JSON.stringify(page.cursor)}}`]);
}

/** Sends JSON as it is: a string or bytes with a JSON content type skip Fastify's serializer. */
export function sendJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
