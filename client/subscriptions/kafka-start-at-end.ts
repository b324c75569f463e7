import type { Admin, Consumer, Kafka } from 'kafkajs';

type Assignment = Record<string, number[]>;

/**
 * readFrom 'end' for a Kafka consumer group, made durable. kafkajs starts a partition without a
 * committed offset at its end ('latest') on its first fetch, but commits nothing until a message
 * was handled: a subscriber restarted before its first event would take the end again and skip
 * what was written in between. So the partitions' ends are read before the group is joined, and
 * committed for the assigned partitions that still have no offset before start() returns. Ends
 * read before joining lie at or before where the consumer starts: a crash re-delivers, never skips.
 * Uses only the admin requests librdkafka's mock broker serves too (OffsetFetch, ListOffsets).
 */
export class KafkaStartAtEnd {
  private constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly ends: Map<string, Map<number, string>>,
  ) {}

  /** Reads the ends of the topics' partitions that the group has no offset for. */
  static async prepare(kafka: Kafka, groupId: string, topics: string[]): Promise<KafkaStartAtEnd> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = new Map<string, Map<number, string>>();
      for (const { topic, partitions } of await partitionsWithoutOffsets(admin, groupId, topics)) {
        const unset = new Set(partitions);
        const high = (await admin.fetchTopicOffsets(topic)).filter((p) => unset.has(p.partition));
        ends.set(topic, new Map(high.map((p) => [p.partition, p.high])));
      }
      return new KafkaStartAtEnd(admin, groupId, ends);
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Commits the ends for this member's partitions that still have no offset. Checked again after
   * joining: another instance of the subscriber that started first may have committed its own
   * (earlier) ends meanwhile, and those must stand.
   */
  async commit(consumer: Consumer, assignment: Assignment): Promise<Array<{ topic: string; partition: number; offset: string }>> {
    const topics = [...this.ends.keys()].filter((topic) => assignment[topic]?.length);
    if (topics.length === 0) return [];
    const offsets = [];
    for (const { topic, partitions } of await partitionsWithoutOffsets(this.admin, this.groupId, topics)) {
      for (const partition of partitions) {
        const end = this.ends.get(topic)?.get(partition);
        if (end !== undefined && assignment[topic].includes(partition)) offsets.push({ topic, partition, offset: end });
      }
    }
    if (offsets.length > 0) await consumer.commitOffsets(offsets);
    return offsets;
  }

  async close(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
  }
}

async function partitionsWithoutOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Array<{ topic: string; partitions: number[] }>> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  return committed
    .map(({ topic, partitions }) => ({ topic, partitions: partitions.filter((p) => Number(p.offset) < 0).map((p) => p.partition) }))
    .filter(({ partitions }) => partitions.length > 0);
}
