import { spawn, ChildProcess } from 'node:child_process';

export interface MockKafka {
  brokers: string;
  stop(): Promise<void>;
}

/**
 * librdkafka's mock cluster, a real Kafka-protocol broker, served by Debian's `kcat`.
 * It prints `bootstrap.servers=127.0.0.1:PORT` on stderr and serves until killed.
 */
export function startMockKafka(timeoutMs = 15000): Promise<MockKafka> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-d', 'mock', '-C', '-t', '__mock_probe', '-b', 'localhost:1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      reject(err);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('kcat mock cluster did not print its bootstrap servers'));
    }, timeoutMs);
    let seen = '';
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run kcat (apt-get install -y kcat): ${err.message}`));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (seen === null) return;
      seen += chunk.toString();
      const match = /bootstrap\.servers=(\S+)/.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      seen = '';
      child.stderr!.removeAllListeners('data');
      child.stderr!.resume(); // keep draining the debug log so kcat never blocks on a full pipe
      resolve({
        brokers: match[1],
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
