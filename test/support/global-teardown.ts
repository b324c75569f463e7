import { adminQuery, FILE_DATABASE_PREFIX } from './database';

export default async function globalTeardown(): Promise<void> {
  // The test files' databases their environments could not drop (sessions still connected): every worker has ended now.
  const left = await adminQuery(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [FILE_DATABASE_PREFIX]).catch(() => []);
  for (const { datname } of left) await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  const state = (globalThis as any).__EVENTUATE_TEST__ as { stops: Array<() => Promise<void>> } | undefined;
  for (const stop of state?.stops.reverse() ?? []) await stop().catch(() => undefined);
}
