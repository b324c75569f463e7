export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as any).__EVENTUATE_TEST__ as { stops: Array<() => Promise<void>> } | undefined;
  for (const stop of state?.stops.reverse() ?? []) await stop().catch(() => undefined);
}
