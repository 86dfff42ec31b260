import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS, TOPICS } from '@rollgate/contracts';
import { EmbeddedEventLog, KafkaEventLog, type EventLog } from '@rollgate/event-log';
import { parseConfig } from '../config/config';
import { eventually } from '../testing/eventually';
import { claimWorkByPartition, type WorkOwnership } from './work-ownership';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const quiet = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/** Which of the replicas own each service now. */
const ownersOf = (replicas: WorkOwnership[]) =>
  services.map((s) => replicas.flatMap((r, i) => (r.owns(s) ? [i] : [])));

describe('work ownership by partition', () => {
  const opened: { log: EventLog; ownership?: WorkOwnership }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      await o.ownership?.stop();
      await o.log.close();
    }
  });

  async function replica(log: EventLog, loop: string): Promise<WorkOwnership> {
    const entry: (typeof opened)[number] = { log };
    opened.push(entry);
    await log.ensureTopics(ALL_TOPICS);
    entry.ownership = await claimWorkByPartition(
      { log, service: 'orchestrator', config: parseConfig({}), claims: new Map() },
      { loop, topic: TOPICS.releases },
    );
    return entry.ownership;
  }

  it('on Kafka, two replicas split the services; when one leaves, the other owns them all', async () => {
    const loop = `test-${randomUUID().slice(0, 8)}`;
    const kafka = () => new KafkaEventLog({ brokers, clientId: `owners-${loop}`, logger: quiet });
    const a = await replica(kafka(), loop);
    const b = await replica(kafka(), loop);
    const replicas = [a, b];
    // Each service has exactly one owner, and both replicas have work.
    await eventually(
      () => ownersOf(replicas),
      (owners) => owners.every((o) => o.length === 1) && new Set(owners.flat()).size === 2,
      'the two replicas to split the services',
      30_000,
    );
    expect(a.owned().length + b.owned().length).toBe(TOPICS.releases.partitions);
    expect(a.owned().filter((p) => b.owned().includes(p))).toEqual([]);

    await opened[0]!.ownership!.stop();
    opened[0]!.ownership = undefined;
    await eventually(
      () => ownersOf([b]),
      (owners) => owners.every((o) => o.length === 1),
      'the remaining replica to own every service',
      30_000,
    );
    expect(b.owned()).toHaveLength(TOPICS.releases.partitions);
  }, 90_000);

  it('on the embedded log, the one process owns every service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollgate-owners-'));
    const only = await replica(new EmbeddedEventLog({ file: join(dir, 'events.db') }), 'test');
    await eventually(
      () => ownersOf([only]),
      (owners) => owners.every((o) => o.length === 1),
      'the embedded replica to own every service',
    );
    expect(only.owned()).toHaveLength(TOPICS.releases.partitions);
  });
});
