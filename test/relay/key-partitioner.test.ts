import { randomBytes, randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { keyPartitioner, murmur2 } from '../../event-store-server/relay/key-partitioner';

const metadata = (partitions: number): PartitionMetadata[] =>
  Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe('the relay partitioner', () => {
  it("hashes as the Java client's murmur2 (Kafka's own test vectors)", () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it("chooses the partition kafkajs's DefaultPartitioner chooses, for every key length and any partition count", () => {
    const keys = [
      '',
      'é',
      '😀 entity',
      ...Array.from({ length: 2000 }, () => randomUUID()),
      ...Array.from({ length: 2000 }, (_, i) => randomBytes(i % 37).toString('latin1')),
      ...Array.from({ length: 200 }, (_, i) => `order-${i}`),
    ];
    // A large count shows the whole hash (kafkajs filters the partitions for every message: fewer keys there).
    for (const [partitions, checked] of [[1, keys], [3, keys], [4, keys], [12, keys], [64, keys], [1009, keys], [65_537, keys.slice(0, 300)]] as const) {
      const partitionMetadata = metadata(partitions);
      const choose = (partitioner: ReturnType<typeof keyPartitioner>) => checked.map((key) => [key, partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } })]);
      expect(choose(keyPartitioner())).toEqual(choose(Partitioners.DefaultPartitioner()));
    }
  });

  it('refuses a message without a key or with a partition of its own', () => {
    const choose = keyPartitioner();
    expect(() => choose({ topic: 't', partitionMetadata: metadata(4), message: { value: 'v' } })).toThrow(/keyed messages/);
    expect(() => choose({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: 'v', partition: 1 } })).toThrow(/keyed messages/);
  });
});
