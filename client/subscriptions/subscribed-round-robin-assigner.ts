import { AssignerProtocol, type GroupMemberAssignment, type PartitionAssigner } from 'kafkajs';

/** The group protocol's name: every member of a group must offer it (kafkaSource's members do). */
export const SUBSCRIBED_ROUND_ROBIN = 'EventuateSubscribedRoundRobin';

/**
 * Round-robin over the partitions of every topic some member of the group subscribes to, each
 * partition to one of the members that subscribe to its topic (as Kafka's own RoundRobinAssignor does).
 *
 * kafkajs's roundRobin hands the leader's topics to every member alike: a member that does not
 * subscribe to a topic drops its partitions, and the topics only other members subscribe to go to
 * nobody. Members of one group can differ in their topics: during a rolling deploy that adds an
 * entity type to a subscriber, or when two deployments with different topic prefixes share a broker
 * and a subscriber id. With kafkajs's assigner their events then silently stop being consumed; here
 * each topic goes to the members that read it.
 */
export const subscribedRoundRobin: PartitionAssigner = ({ cluster }) => ({
  name: SUBSCRIBED_ROUND_ROBIN,
  version: 0,

  async assign({ members }) {
    const subscribers = new Map<string, string[]>();
    for (const { memberId, memberMetadata } of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
      for (const topic of AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? []) {
        subscribers.set(topic, [...(subscribers.get(topic) ?? []), memberId]);
      }
    }
    const topics = [...subscribers.keys()].sort();
    // The leader's metadata covers its own topics; the other members' are fetched here.
    await cluster.addMultipleTargetTopics(topics);
    const assignment = new Map<string, Record<string, number[]>>(members.map(({ memberId }) => [memberId, {}]));
    let turn = 0;
    for (const topic of topics) {
      const readers = subscribers.get(topic)!;
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      for (const partition of partitions) {
        const member = assignment.get(readers[turn++ % readers.length])!;
        (member[topic] ??= []).push(partition);
      }
    }
    return [...assignment].map(
      ([memberId, partitions]): GroupMemberAssignment => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: partitions, userData: Buffer.alloc(0) }),
      }),
    );
  },

  protocol({ topics }) {
    return { name: SUBSCRIBED_ROUND_ROBIN, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
