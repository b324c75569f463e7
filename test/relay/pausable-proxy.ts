import { createServer, connect, type Server, type Socket } from 'node:net';

export interface PausableProxy {
  /** The target's connection string with host and port replaced by the proxy's. */
  connectionString: string;
  /** Stops relaying bytes both ways without closing anything: the connections go silent, as across a partition. */
  pause(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of PostgreSQL whose connections the test can silence. */
export async function pausableProxy(targetConnectionString: string): Promise<PausableProxy> {
  const target = new URL(targetConnectionString);
  const sockets = new Set<Socket>();
  let paused = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!paused) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        if (!paused) to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(targetConnectionString);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as { port: number }).port);
  return {
    connectionString: proxied.toString(),
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
