import { Kafka, logLevel } from 'kafkajs';
import { testDatabase } from './database';

describe('test harness', () => {
  it('reaches a real PostgreSQL with xid8 snapshot functions', async () => {
    const db = testDatabase();
    try {
      const { rows } = await db.pool.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, current_setting($1) AS v', ['server_version_num']);
      expect(Number(rows[0].v)).toBeGreaterThanOrEqual(130000);
      expect(BigInt(rows[0].xmin)).toBeGreaterThan(0n);
    } finally {
      await db.drop();
    }
  });

  it('reaches a Kafka-protocol broker that round-trips a message', async () => {
    const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const topic = `harness-${Date.now()}`;
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `g-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
    });
    await consumer.disconnect();
    expect(value).toBe('hello');
  });
});
