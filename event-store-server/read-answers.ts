import type { FastifyReply } from 'fastify';
import type { FeedPage, HistoryPage, LoadedEntity } from '../src/model';
import { AnswerEvent, AnswerSnapshot, snapshotJson, writeEventsJson } from './event-json';
import type { PackedLoadedEntity } from '../src/stored-event-text';
import { JsonBytes } from './json-bytes';
import { writePackedEventsJson } from './packed-events-json';

/**
 * The answers of the reads that carry events, written as text: the events' JSON comes from the
 * store as it is (PostgresEventStore.jsonText) and goes into the answer without becoming objects.
 * The members are in the order of the response schemas (schemas.ts), as Fastify's serializer wrote
 * them; test/server/read-answers.test.ts holds the two to the same bytes and to the schemas.
 */

/** A load read as objects or text (events), or with its events packed by PostgreSQL (packedEvents). */
export function loadedEntityJson(loaded: LoadedEntity<AnswerEvent, AnswerSnapshot> | PackedLoadedEntity): Buffer {
  const out = new JsonBytes();
  out.write(
    `{"entityType":${JSON.stringify(loaded.entityType)},"entityId":${JSON.stringify(loaded.entityId)},` +
      `"entityVersion":${loaded.entityVersion},` +
      (loaded.snapshot === undefined ? '' : `"snapshot":${snapshotJson(loaded.snapshot)},`) +
      `"events":`,
  );
  if ('packedEvents' in loaded) writePackedEventsJson(out, loaded.entityType, loaded.entityId, loaded.packedEvents);
  else writeEventsJson(out, loaded.events);
  out.write('}');
  return out.done();
}

export function historyPageJson(page: HistoryPage<AnswerEvent>): Buffer {
  const snapshots = page.snapshots.map(
    (s) => `{"entityVersion":${s.entityVersion},"snapshotType":${JSON.stringify(s.snapshotType)},"createdAt":${JSON.stringify(s.createdAt)}}`,
  );
  const out = new JsonBytes();
  out.write(`{"entityType":${JSON.stringify(page.entityType)},"entityId":${JSON.stringify(page.entityId)},"entityVersion":${page.entityVersion},"events":`);
  writeEventsJson(out, page.events);
  out.write(`,"snapshots":[${snapshots.join(',')}],"nextFromVersion":${page.nextFromVersion}}`);
  return out.done();
}

/** The feed tail hands its events to many readers: their text is made once (sharedEventJson). */
export function feedPageJson(page: FeedPage<AnswerEvent>): Buffer {
  const out = new JsonBytes();
  out.write('{"events":');
  writeEventsJson(out, page.events, true);
  out.write(`,"cursor":${JSON.stringify(page.cursor)}}`);
  return out.done();
}

/** Sends JSON as it is: a string or bytes with a JSON content type skip Fastify's serializer. */
export function sendJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
