import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOPICS, type EventEnvelope, type InstanceStoppedV1 } from '@rollgate/contracts';
import { KafkaEventLog } from '@rollgate/event-log';
import { AgentFleetDriver } from './agent-fleet-driver';
import { FleetAgent } from './fleet-agent';

// Real Kafka (source infra/kafka/env.sh), real processes: one agent, one driver.
const root = resolve(__dirname, '../../../..');
const brokers = (process.env['ROLLGATE_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const good = `sha256:${'7'.repeat(64)}`;
const run = randomUUID().slice(0, 6);

describe('fleet agent and agent fleet driver on Kafka', () => {
  const log = new KafkaEventLog({ brokers, clientId: `fleet-agent-int-${run}` });
  const host = `int-${run}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'rollgate-agent-int-'));
  let agent: FleetAgent | undefined;
  const driver = new AgentFleetDriver({
    log,
    actor: 'service:orchestrator',
    capacityWaitMs: 3_000,
  });

  let remote: FleetAgent | undefined;

  afterAll(async () => {
    await driver.close();
    await agent?.close();
    await remote?.close();
    await log.close();
  });

  async function hostEvents(): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    for await (const { event } of log.readRange({ topic: TOPICS.fleet.name }))
      if (event.key === host) events.push(event);
    return events;
  }

  it('cleans up what it recorded but no longer runs, runs what the driver asks up to its capacity, and stops it', async () => {
    // An earlier life recorded an instance whose process is gone.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, `agent-${host}.json`),
      JSON.stringify({
        host,
        instances: [
          {
            instanceId: 'gone-1',
            service: 'shop',
            group: 'stable',
            digest: good,
            port: 1,
            pid: 2 ** 22 + 1,
          },
        ],
      }),
    );
    agent = new FleetAgent({
      log,
      host,
      capacity: 1,
      address: '127.0.0.1',
      dataDir,
      root,
      heartbeatMs: 1_000,
      lostAfterMs: 20_000,
    });
    await agent.start();

    const started = await driver.start({
      service: 'shop',
      version: 'v1',
      digest: good,
      group: 'stable',
    });
    expect(started.host).toBe('127.0.0.1');
    expect(agent.instances().map((i) => [i.instanceId, i.port])).toEqual([
      [started.id, started.port],
    ]);
    // It answers /info (a loaded machine may need a second try within the one-second timeout).
    let [observed] = await driver.observe('shop');
    for (let i = 0; i < 10 && !observed?.healthy; i++) [observed] = await driver.observe('shop');
    expect(observed).toMatchObject({ id: started.id, healthy: true });
    expect(observed!.reported?.digest).toBe(good);

    // Capacity 1: a second instance has nowhere to go, and the start says why.
    await expect(
      driver.start({ service: 'shop', version: 'v1', digest: good, group: 'canary' }),
    ).rejects.toThrow(
      new RegExp(`no agent has a free slot for shop within 3000 ms \\(${host} 1/1\\)`),
    );

    const pid = agent.instances()[0]!.pid;
    await driver.stop(started.id);
    expect(agent.instances()).toEqual([]);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await driver.observe('shop')).toEqual([]);

    const stopped = (await hostEvents())
      .filter((e) => e.type === 'InstanceStopped')
      .map((e) => e.data as InstanceStoppedV1)
      .map((d) => [d.instanceId, d.reason]);
    expect(stopped).toEqual([
      ['gone-1', 'cleaned-up'],
      [started.id, 'requested'],
    ]);
  }, 90_000);

  it('serves its instances on every interface when other hosts reach it at another address', async () => {
    // 127.0.0.2 is this machine too, but a listener on 127.0.0.1 alone refuses it: as a
    // container's name would be refused by an instance listening on the container's loopback.
    remote = new FleetAgent({
      log,
      host: `${host}-b`,
      capacity: 4,
      address: '127.0.0.2',
      dataDir: mkdtempSync(join(tmpdir(), 'rollgate-agent-int-')),
      root,
      heartbeatMs: 1_000,
      lostAfterMs: 20_000,
    });
    await remote.start();
    const started = await driver.start({
      service: 'cart',
      version: 'v1',
      digest: good,
      group: 'stable',
    });
    expect(started.host).toBe('127.0.0.2');
    let [observed] = await driver.observe('cart');
    for (let i = 0; i < 10 && !observed?.healthy; i++) [observed] = await driver.observe('cart');
    expect(observed).toMatchObject({ id: started.id, healthy: true });
    await driver.stop(started.id);
  }, 60_000);
  it('lets a second driver take over the instances the first one started, and stop them', async () => {
    // Another orchestrator replica's driver: it started nothing, the agents still run it all.
    const service = `adopt-${run}`;
    const next = `sha256:${'8'.repeat(64)}`;
    const started = [
      await driver.start({ service, version: 'v1', digest: good, group: 'stable' }),
      await driver.start({ service, version: 'v2', digest: next, group: 'canary' }),
    ];
    const successor = new AgentFleetDriver({ log, actor: 'service:orchestrator' });
    try {
      const adopted = await successor.adopt(service);
      expect(adopted.map((i) => [i.id, i.group, i.intended, i.port]).sort()).toEqual(
        started.map((i) => [i.id, i.group, i.intended, i.port]).sort(),
      );
      // Taken once: asked again, nothing new.
      expect(await successor.adopt(service)).toEqual([]);
      await successor.stop(started[1]!.id);
      const running = () =>
        [agent, remote].flatMap((a) => a?.instances() ?? []).filter((i) => i.service === service);
      expect(running().map((i) => i.instanceId)).toEqual([started[0]!.id]);
      await successor.stop(started[0]!.id);
      expect(running()).toEqual([]);
      expect(await successor.observe(service)).toEqual([]);
    } finally {
      await successor.close();
    }
  }, 90_000);
});
