import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TOPICS,
  type EventEnvelope,
  type FleetAgentLostV1,
  type InstanceStartedV1,
  type InstanceStartRequestedV1,
  type InstanceStoppedV1,
} from '@rollgate/contracts';
import { KafkaEventLog } from '@rollgate/event-log';
import { issueToken } from '@rollgate/platform';
import { deploy, route, settle, type ReleaseTarget } from './release-scenarios';
import {
  api,
  digest,
  dropServiceSchemas,
  portsEnv,
  start,
  healthy,
  SERVICES,
  stop,
  tempDir,
  traffic,
  waitFor,
  type Proc,
} from './support';

// Issue 15 item 2 (ADR 0016): two `rollgate agent` processes on this machine play two hosts; the
// orchestrator runs ROLLGATE_FLEET=agents on Kafka and PostgreSQL.
const dir = tempDir('agents');
const run = randomUUID().slice(0, 6);
const prefix = `e2eagt${run}_`;
const service = 'shop';
const hostA = `a-${run}`;
const hostB = `b-${run}`;
const V1 = { digest: digest('1'), version: 'v1' };
const V2 = { digest: digest('2'), version: 'v2' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.001, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.001, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(28400),
  ROLLGATE_MODE: 'production',
  ROLLGATE_SCHEMA_PREFIX: prefix,
  ROLLGATE_FLEET_PROFILES: profiles,
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
};
/** b's silence limit: a few heartbeats, with room for a loaded machine. */
const LOST_AFTER_MS = 6_000;
/** a is never to be lost, even while a loaded machine restarts it. */
const A_LOST_AFTER_MS = 180_000;
const brokers = (process.env['ROLLGATE_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

interface AgentState {
  instances: {
    instanceId: string;
    service: string;
    group: string;
    digest: string;
    port: number;
    pid: number;
  }[];
}

const dataDirOf = (host: string) => join(dir, 'agents', host);
const stateOf = (host: string): AgentState['instances'] => {
  const file = join(dataDirOf(host), `agent-${host}.json`);
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as AgentState).instances.filter(
        (i) => i.service === service,
      )
    : [];
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function startAgent(host: string, capacity: number, lostAfterMs: number): Proc {
  return start('apps/cli/src/main.ts', env, [
    'agent',
    '--host',
    host,
    '--capacity',
    String(capacity),
    '--data-dir',
    dataDirOf(host),
    '--heartbeat-ms',
    '1000',
    '--lost-after-ms',
    String(lostAfterMs),
  ]);
}

async function agentRunning(agent: Proc, host: string): Promise<void> {
  await waitFor(
    () => agent.output().includes(`agent ${host} running`),
    `agent ${host} to run:\n${agent.output()}`,
    200_000,
  );
}

describe('fleet agents: two hosts on this machine, a canary release, an agent lost', () => {
  const log = new KafkaEventLog({ brokers, clientId: `e2e-agents-${run}` });
  const agents = new Map<string, Proc>();
  let procs = new Map<string, Proc>();
  let users: ReturnType<typeof traffic> | undefined;
  const target: ReleaseTarget = {
    orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
    router: env.ROLLGATE_ROUTER_URL,
    token: issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'ci', scopes: ['deploy'] }),
    service,
    output: () =>
      [...procs, ...agents].map(([n, p]) => `--- ${n}\n${p.output().slice(-1500)}`).join('\n'),
  };

  /** This run's events on the fleet topic. */
  async function fleetEvents(): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    for await (const { event } of log.readRange({ topic: TOPICS.fleet.name }))
      if (event.key === hostA || event.key === hostB) events.push(event);
    return events;
  }

  beforeAll(async () => {
    agents.set(hostA, startAgent(hostA, 4, A_LOST_AFTER_MS));
    agents.set(hostB, startAgent(hostB, 2, LOST_AFTER_MS));
    procs = new Map(
      SERVICES.map((s) => {
        const extra: Record<string, string> =
          s === 'orchestrator' ? { ROLLGATE_FLEET: 'agents' } : {};
        return [s, start(`apps/${s}/src/main.ts`, { ...env, ...extra })] as const;
      }),
    );
    const urls = SERVICES.map(
      (s) => (env as Record<string, string>)[`ROLLGATE_${s.toUpperCase()}_URL`]!,
    );
    await waitFor(
      async () => (await Promise.all(urls.map(healthy))).every(Boolean),
      `five healthy services\n${target.output()}`,
      200_000,
    );
    await agentRunning(agents.get(hostA)!, hostA);
    await agentRunning(agents.get(hostB)!, hostB);
  }, 420_000);

  afterAll(async () => {
    await users?.stop();
    await Promise.all([...procs.values()].map((p) => stop(p)));
    await Promise.all([...agents.values()].map((p) => stop(p)));
    // Instances outlive their agents by design: end what this run started.
    for (const host of [hostA, hostB])
      for (const i of stateOf(host)) if (alive(i.pid)) process.kill(i.pid, 'SIGKILL');
    await log.close();
    await dropServiceSchemas(prefix);
  });

  it('spreads the instances over both hosts; a lost agent holds the release, whose instances are then rescheduled; agents adopt what they ran', async () => {
    const first = await deploy(target, V1, 'canary', {}, true);
    expect(await settle(target, first, ['succeeded'], 120_000)).toMatchObject({
      phase: 'succeeded',
    });
    // Spread: one instance on each host (the one with more free slots first).
    expect(stateOf(hostA)).toHaveLength(1);
    expect(stateOf(hostB)).toHaveLength(1);
    users = traffic((await route(target)).endpoint.port, 60);

    const releaseId = await deploy(target, V2, 'canary', { canarySteps: [50], stepSeconds: 10 });
    // The canary step runs a baseline (v1) and a canary (v2): spread, the baseline on a (more free
    // slots), the canary on b (fewer instances of the service).
    await waitFor(
      () => stateOf(hostB).some((i) => i.digest === V2.digest),
      'the canary instance to run on b',
      120_000,
    );
    expect(stateOf(hostA)).toHaveLength(2);
    const onB = stateOf(hostB);
    expect(onB).toHaveLength(2);
    // Host b goes away mid-release (kill -9: no goodbye, no heartbeat).
    const killedAt = Date.now();
    await stop(agents.get(hostB)!, 'SIGKILL');

    const done = await settle(target, releaseId, ['succeeded', 'rolled-back', 'paused'], 120_000);
    const events = await fleetEvents();
    const lost = events.find(
      (e) => e.type === 'FleetAgentLost' && (e.data as FleetAgentLostV1).host === hostB,
    )?.data as FleetAgentLostV1 | undefined;
    expect(lost).toBeDefined();
    // Its silence counts from its last heartbeat (up to one interval before the kill).
    expect(Date.parse(lost!.detectedAt)).toBeGreaterThanOrEqual(killedAt + LOST_AFTER_MS - 2_000);
    // The group each was started in (a first release starts canary instances, then promotes them).
    expect([...lost!.instances].sort((x, y) => x.instanceId.localeCompare(y.instanceId))).toEqual(
      onB
        .map((i) => ({ instanceId: i.instanceId, service, group: i.group }))
        .sort((x, y) => x.instanceId.localeCompare(y.instanceId)),
    );
    expect(lost!.services).toEqual([service]);

    // Documented rule: the release holds while capacity is lost (nothing new starts for the
    // service), then the lost instances are started again on the host with free slots, and the
    // release goes on.
    expect(done).toMatchObject({ phase: 'succeeded', version: V2.version });
    const startsAfterKill = events
      .filter((e) => e.type === 'InstanceStartRequested' && Date.parse(e.occurredAt) > killedAt)
      .map((e) => e.data as InstanceStartRequestedV1);
    // The lost canary again, and the second canary of the last step.
    expect(startsAfterKill.map((c) => [c.host, c.digest])).toEqual([
      [hostA, V2.digest],
      [hostA, V2.digest],
    ]);
    for (const command of startsAfterKill)
      expect(Date.parse(command.requestedAt)).toBeGreaterThanOrEqual(Date.parse(lost!.holdUntil));
    const backends = Object.values((await route(target)).backends).flat();
    expect(backends.map((b) => b.port).sort()).toEqual(
      stateOf(hostA)
        .filter((i) => i.digest === V2.digest)
        .map((i) => i.port)
        .sort(),
    );
    expect(backends).toHaveLength(2);

    // Users kept being served through it all: the lost host's process still answered until the
    // route left it (an agent's loss is not its instances' death).
    const served = users.served.filter((s) => s.at >= killedAt);
    const failed = served.filter((s) => s.status !== 200).length;
    expect(served.length).toBeGreaterThan(100);
    expect(failed / served.length).toBeLessThan(0.05);

    // b comes back: it adopts the instances it still runs, which the driver gave up on, so it is
    // told to stop them.
    expect(onB.every((i) => alive(i.pid))).toBe(true);
    agents.set(hostB, startAgent(hostB, 2, LOST_AFTER_MS));
    await agentRunning(agents.get(hostB)!, hostB);
    const stoppedOnRequest = (events: EventEnvelope[], instanceId: string) =>
      events.some(
        (e) =>
          e.type === 'InstanceStopped' &&
          (e.data as InstanceStoppedV1).instanceId === instanceId &&
          (e.data as InstanceStoppedV1).reason === 'requested',
      );
    let afterB: EventEnvelope[] = [];
    await waitFor(
      async () => {
        afterB = await fleetEvents();
        return onB.every((i) => stoppedOnRequest(afterB, i.instanceId));
      },
      'the given-up instances to be stopped',
      30_000,
    ).catch(() => undefined);
    for (const { instanceId, pid } of onB) {
      expect(
        afterB.some(
          (e) =>
            e.type === 'InstanceStarted' &&
            (e.data as InstanceStartedV1).instanceId === instanceId &&
            (e.data as InstanceStartedV1).adopted,
        ),
      ).toBe(true);
      expect(stoppedOnRequest(afterB, instanceId)).toBe(true);
      expect(alive(pid)).toBe(false);
    }

    // a restarts within its silence limit: it adopts both stable instances; nothing is lost.
    const before = stateOf(hostA)
      .map((i) => i.instanceId)
      .sort();
    expect(before).toHaveLength(2);
    await stop(agents.get(hostA)!, 'SIGKILL');
    agents.set(hostA, startAgent(hostA, 4, A_LOST_AFTER_MS));
    await agentRunning(agents.get(hostA)!, hostA);
    expect(agents.get(hostA)!.output()).toContain('2 adopted');
    const afterA = await fleetEvents();
    const adopted = afterA
      .filter(
        (e) =>
          e.type === 'InstanceStarted' && e.key === hostA && (e.data as InstanceStartedV1).adopted,
      )
      .map((e) => (e.data as InstanceStartedV1).instanceId)
      .sort();
    expect(adopted).toEqual(before);
    expect(afterA.some((e) => e.type === 'FleetAgentLost' && e.key === hostA)).toBe(false);
    // The orchestrator still sees both, healthy (asked again while a loaded machine is slow).
    let instances: { id: string; healthy: boolean }[] = [];
    await waitFor(async () => {
      const fleet = await api(
        `${target.orchestrator}/fleet/instances?service=${service}`,
        'GET',
        target.token,
      );
      instances = fleet.body['instances'] as { id: string; healthy: boolean }[];
      return instances.every((i) => i.healthy);
    }, 'both instances healthy').catch(() => undefined);
    expect(instances.map((i) => [i.id, i.healthy]).sort()).toEqual(before.map((id) => [id, true]));

    // The orchestrator dies (kill -9) and starts again: its new life owns the service and takes
    // over the two instances the agents still run, rather than starting the stable set twice.
    await stop(procs.get('orchestrator')!, 'SIGKILL');
    procs.set(
      'orchestrator',
      start('apps/orchestrator/src/main.ts', { ...env, ROLLGATE_FLEET: 'agents' }),
    );
    await waitFor(() => healthy(target.orchestrator), 'the orchestrator again', 120_000);
    await waitFor(
      async () => {
        const fleet = await api(
          `${target.orchestrator}/fleet/instances?service=${service}`,
          'GET',
          target.token,
        );
        instances = fleet.body['instances'] as { id: string; healthy: boolean }[];
        return instances.length >= before.length && instances.every((i) => i.healthy);
      },
      'the restarted orchestrator to take the instances over',
      60_000,
    ).catch(() => undefined);
    expect(instances.map((i) => [i.id, i.healthy]).sort()).toEqual(before.map((id) => [id, true]));
    const running = [hostA, hostB].flatMap((host) => stateOf(host)).filter((i) => alive(i.pid));
    expect(running.map((i) => i.instanceId).sort()).toEqual(before);
  }, 600_000);
});
