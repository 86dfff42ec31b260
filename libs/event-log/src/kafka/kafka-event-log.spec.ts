import { KafkaJSProtocolError } from 'kafkajs';
import { KafkaEventLog } from './kafka-event-log';

/** A log whose admin answers end offsets from a script (no broker). */
function logAnswering(answers: (() => unknown)[]) {
  const log = new KafkaEventLog({ clientId: 'test', brokers: ['127.0.0.1:1'] });
  let calls = 0;
  const internals = log as unknown as {
    connect: () => Promise<void>;
    admin: { fetchTopicOffsets: () => Promise<unknown> };
  };
  internals.connect = () => Promise.resolve();
  internals.admin.fetchTopicOffsets = () =>
    Promise.resolve().then(() => answers[Math.min(calls++, answers.length - 1)]!());
  return { log, calls: () => calls };
}

/** As kafkajs raises a broker's error code (its retriable flag comes from the protocol). */
const protocolError = (message: string, type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }));

const notLeader = () => {
  throw protocolError(
    'This server is not the leader for that topic-partition',
    'NOT_LEADER_FOR_PARTITION',
    6,
    true,
  );
};

describe('KafkaEventLog.endOffsets', () => {
  it('waits out a new topic whose partitions have no leader yet', async () => {
    const offsets = [
      { partition: 1, offset: '0', high: '7', low: '0' },
      { partition: 0, offset: '0', high: '3', low: '0' },
    ];
    const { log, calls } = logAnswering([notLeader, notLeader, () => offsets]);
    await expect(log.endOffsets('rollgate.releases')).resolves.toEqual([3, 7]);
    expect(calls()).toBe(3);
  });

  it('fails at once on an error that will not pass', async () => {
    const denied = () => {
      throw protocolError(
        'Not authorized to access topics',
        'TOPIC_AUTHORIZATION_FAILED',
        29,
        false,
      );
    };
    const { log, calls } = logAnswering([denied]);
    await expect(log.endOffsets('rollgate.releases')).rejects.toThrow('Not authorized');
    expect(calls()).toBe(1);
  });
});
