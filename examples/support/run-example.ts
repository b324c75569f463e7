/** Runs an example's main: its error as one line and exit code 1, else exit code 0 (open keep-alive sockets must not hold the process). */
export function runExample(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`example failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

/** The event store server the examples talk to: the one `npm start` leaves running, unless EVENTUATE_URL says otherwise. */
export function eventStoreUrl(): string {
  return process.env.EVENTUATE_URL || 'http://localhost:8080';
}
