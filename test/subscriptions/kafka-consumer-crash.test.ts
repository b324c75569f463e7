import pino from 'pino';
import { Registry } from 'prom-client';
import { EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, kafkaSource, memoryDeadLetters } from '../../client';
import { uniqueName } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { startMockKafka, type MockKafka } from '../support/kafka-mock';
import { Deposited } from './wallet-domain';

@EventSubscriber('crashWatcher')
class CrashWatcher {
  @EventHandlerMethod(Deposited)
  deposited(_ctx: EventHandlerContext<Deposited>) {}
}

describe('a Kafka consumer that crashes', () => {
  let broker: MockKafka;

  beforeAll(async () => {
    // A broker of its own, since the test takes it away.
    broker = await startMockKafka();
  });

  afterAll(() => broker.stop());

  jest.setTimeout(120_000);

  it('when its broker goes away: the subscriber shows the crash in its status and gauges while kafkajs restarts it, and still stops cleanly', async () => {
    const manager = new SubscriptionManager({
      source: kafkaSource({ brokers: [broker.brokers], topicPrefix: `${uniqueName('crash')}.`, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [new CrashWatcher()],
      logger: pino({ level: 'silent' }),
    });
    const metrics = new Registry();
    manager.registerMetrics(metrics);
    await manager.start();
    try {
      expect(manager.status()[0]).toMatchObject({ running: true, sourceError: undefined });
      await broker.stop();
      await eventually(() => manager.status()[0].sourceError !== undefined, 'the consumer crash in the status', 90_000);
      const [status] = manager.status();
      // Restarting, not halted: a broker that comes back is consumed from again.
      expect(status).toMatchObject({ running: true, error: undefined });
      expect(status.sourceError?.name).toMatch(/^KafkaJS/);
      expect(await metrics.metrics()).toContain('eventuate_subscriber_source_failing{subscriber="crashWatcher"} 1');
    } finally {
      const stopping = Date.now();
      await manager.stop();
      expect(Date.now() - stopping).toBeLessThan(30_000);
    }
    expect(manager.status()[0].running).toBe(false);
  });
});
