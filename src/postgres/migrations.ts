import type { Pool } from 'pg';
import { quoteIdent } from './sql';

export interface Migration {
  version: number;
  name: string;
  /** SQL for the given (already quoted) schema. */
  up(schema: string): string;
}

/** Append only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'entities, events, snapshots',
    up: (s) => `
      CREATE TABLE ${s}.entities (
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        entity_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (entity_type, entity_id)
      );
      CREATE TABLE ${s}.events (
        position bigint GENERATED ALWAYS AS IDENTITY,
        -- The event id is the key; position needs no index of its own, the feed's index covers it.
        event_id uuid PRIMARY KEY,
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        entity_version integer NOT NULL,
        event_type text NOT NULL,
        event_data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        triggering_event text,
        created_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        UNIQUE (entity_type, entity_id, entity_version)
      );
      CREATE INDEX events_feed_order ON ${s}.events (transaction_id, position);
      CREATE INDEX events_triggering_event ON ${s}.events (entity_type, entity_id, triggering_event)
        WHERE triggering_event IS NOT NULL;
      CREATE TABLE ${s}.snapshots (
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        entity_version integer NOT NULL,
        snapshot_type text NOT NULL,
        snapshot_data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (entity_type, entity_id, entity_version)
      );
    `,
  },
  {
    version: 2,
    name: 'store identity',
    // Written into every feed cursor, so that a cursor given to another store is refused instead of
    // read there. One row; repair-after-restore gives the store a new identity.
    up: (s) => `
      CREATE TABLE ${s}.store_identity (
        one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
        store_id text NOT NULL CHECK (store_id ~ '^[0-9a-f]{16}$'),
        -- True when events existed before cursors carried an identity: this store may have issued
        -- cursors without one, so it reads them.
        accepts_unidentified_cursors boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO ${s}.store_identity (store_id, accepts_unidentified_cursors)
      SELECT left(md5(gen_random_uuid()::text), 16), EXISTS (SELECT FROM ${s}.events);
    `,
  },
];

/**
 * Applies the migrations not yet recorded, each in its own transaction, under an advisory lock
 * so that servers starting together do not race. Safe to run at every start.
 */
export async function migrate(pool: Pool, schema: string, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  const s = quoteIdent(schema);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [migrationLockKey(schema)]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
      const done = new Set(rows.map((r) => r.version));
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.up(s));
          await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        applied.push(migration.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [migrationLockKey(schema)]);
    }
  } finally {
    client.release();
  }
  return applied;
}

/**
 * The advisory lock (`hashtext` of this key) under which a schema's tables change shape: migrations,
 * repairs, and the cursor tables readers create on first use, so processes starting together do not race.
 */
export function migrationLockKey(schema: string): string {
  return `eventuate-migrations:${schema}`;
}

/** The NOTIFY channel on which stores announce commits of a schema's events. */
export function eventsChannel(schema: string): string {
  return `eventuate_events_${schema}`;
}
