import { randomUUID } from 'node:crypto';
import {
  TOPICS,
  type AgentHeartbeatV1,
  type AgentInstanceReport,
  type EventEnvelope,
  type FleetAgentLostV1,
  type InstanceStartedV1,
  type InstanceStartFailedV1,
  type InstanceStartRequestedV1,
  type InstanceStoppedV1,
  type InstanceStopRequestedV1,
} from '@rollgate/contracts';
import type { EventLog, Subscription } from '@rollgate/event-log';
import type { FleetDriver, FleetInstance, InstanceSpec, ObservedInstance } from '../fleet-driver';
import { observeInstance, publicView } from '../local/instance-process';
import { isSilent, pickHost, type HostLoad } from './scheduling';

export interface AgentFleetOptions {
  log: EventLog;
  /** Actor of the commands and of FleetAgentLost (`service:orchestrator`). */
  actor: string;
  /** How long a lost agent's instances count as unhealthy before they are started elsewhere. */
  holdMs?: number;
  /** How long `start` waits for a free slot on some agent before it fails. */
  capacityWaitMs?: number;
  /** How long an agent may take to answer a start command. */
  startTimeoutMs?: number;
  /** Ports instances may listen on; undefined: any free port. */
  portRange?: { from: number; to: number };
  /** How often agents' silence is checked. */
  checkEveryMs?: number;
}

interface Agent {
  host: string;
  agentId: string;
  address: string;
  capacity: number;
  /** What the agent last said it runs, by instance id. */
  reported: Map<string, AgentInstanceReport>;
  /** Local receive time of its last heartbeat (epoch ms). */
  seenAt: number;
  lastHeartbeatAt: string;
  lostAfterMs: number;
  intervalMs: number;
  lost?: { detectedAt: number; holdUntil: number };
}

interface Tracked extends FleetInstance {
  agentHost: string;
}

interface Waiter {
  done: (event: EventEnvelope) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The fleet on agents (ROLLGATE_FLEET=agents, ADR 0016): instances run on the hosts where a
 * `rollgate agent` runs. Commands and answers go through the `rollgate.fleet` topic, keyed by
 * host; this driver places each instance by free capacity, spreading a service over hosts, and
 * asks the instances themselves what they run, like the local driver.
 *
 * An agent silent for its own lostAfterMs is lost: FleetAgentLost is recorded, its instances
 * count as unhealthy for `holdMs` and no new instance of their services starts (the release
 * holds); then they count as gone, so the orchestrator starts them again on hosts with free
 * capacity. A `start` that finds no free slot within capacityWaitMs fails: the orchestrator rolls
 * a new build that cannot be placed back. Instances given up on are stopped if their agent returns.
 */
export class AgentFleetDriver implements FleetDriver {
  readonly kind = 'agents';
  private readonly agents = new Map<string, Agent>();
  private readonly instances = new Map<string, Tracked>();
  /** Starts in flight, counted on their host so concurrent starts spread too. */
  private readonly reserved = new Map<string, { host: string; service: string }>();
  private readonly waiters = new Map<string, Waiter>();
  /** Instances of lost agents this driver gave up on: stopped if their agent comes back. */
  private readonly givenUp = new Map<string, string>();
  private subscription: Subscription | undefined;
  private ready: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly life = randomUUID().slice(0, 8);

  constructor(private readonly options: AgentFleetOptions) {}

  private get holdMs() {
    return this.options.holdMs ?? 10_000;
  }

  /** Subscribes to the fleet topic (once): heartbeats and answers of every agent. */
  private open(): Promise<void> {
    this.ready ??= (async () => {
      await this.options.log.ensureTopics([TOPICS.fleet]);
      this.subscription = await this.options.log.subscribe({
        groupId: `rollgate-fleet-driver-${this.life}`,
        topics: [TOPICS.fleet.name],
        fromBeginning: false,
        handle: async (batch) => {
          for (const { event } of batch) this.onEvent(event);
        },
      });
      this.timer = setInterval(() => void this.checkAgents(), this.options.checkEveryMs ?? 500);
      // Joined mid-stream: place nothing before every live agent had a chance to say it is there.
      while (this.agents.size === 0 && !this.closed) await sleep(100);
      const interval = Math.max(...[...this.agents.values()].map((a) => a.intervalMs));
      await sleep(Math.ceil(interval * 1.5));
    })();
    return this.ready;
  }

  private onEvent(event: EventEnvelope): void {
    switch (event.type) {
      case 'AgentHeartbeat':
        return this.onHeartbeat(event.data as AgentHeartbeatV1);
      case 'InstanceStarted': {
        const data = event.data as InstanceStartedV1;
        if (data.commandId) this.waiters.get(data.commandId)?.done(event);
        if (data.adopted && this.givenUp.has(data.instanceId))
          void this.sendStop(data.host, data.instanceId, 'given up when its agent was lost');
        return;
      }
      case 'InstanceStartFailed':
        this.waiters.get((event.data as InstanceStartFailedV1).commandId)?.done(event);
        return;
      case 'InstanceStopped': {
        const data = event.data as InstanceStoppedV1;
        this.instances.delete(data.instanceId);
        this.givenUp.delete(data.instanceId);
        this.waiters.get(`stop:${data.instanceId}`)?.done(event);
        return;
      }
      default:
        return;
    }
  }

  private onHeartbeat(beat: AgentHeartbeatV1): void {
    const agent: Agent = {
      host: beat.host,
      agentId: beat.agentId,
      address: beat.address,
      capacity: beat.capacity,
      reported: new Map(beat.instances.map((i) => [i.instanceId, i])),
      seenAt: Date.now(),
      lastHeartbeatAt: new Date().toISOString(),
      lostAfterMs: beat.lostAfterMs,
      intervalMs: beat.intervalMs,
    };
    this.agents.set(beat.host, agent);
    for (const id of agent.reported.keys())
      if (this.givenUp.has(id))
        void this.sendStop(beat.host, id, 'given up when its agent was lost');
  }

  /** Agents silent for too long are lost; a hold that ended gives their instances up. */
  private async checkAgents(): Promise<void> {
    const now = Date.now();
    for (const agent of this.agents.values()) {
      if (!agent.lost && isSilent(agent.seenAt, agent.lostAfterMs, now)) {
        agent.lost = { detectedAt: now, holdUntil: now + this.holdMs };
        const instances = this.on(agent.host).map((i) => ({
          instanceId: i.id,
          service: i.service,
          group: i.group,
        }));
        const data: FleetAgentLostV1 = {
          host: agent.host,
          lastHeartbeatAt: agent.lastHeartbeatAt,
          detectedAt: new Date(now).toISOString(),
          holdUntil: new Date(agent.lost.holdUntil).toISOString(),
          instances,
          services: [...new Set(instances.map((i) => i.service))].sort(),
        };
        await this.append('FleetAgentLost', agent.host, agent.host, data).catch(() => undefined);
      }
      if (agent.lost && now >= agent.lost.holdUntil) {
        for (const instance of this.on(agent.host)) {
          this.instances.delete(instance.id);
          this.givenUp.set(instance.id, agent.host);
        }
      }
    }
  }

  private on(host: string): Tracked[] {
    return [...this.instances.values()].filter((i) => i.agentHost === host);
  }

  /** A service is held while an agent that ran one of its instances is lost and in its hold. */
  private heldUntil(service: string): number | undefined {
    let until: number | undefined;
    for (const agent of this.agents.values()) {
      if (!agent.lost || Date.now() >= agent.lost.holdUntil) continue;
      if (this.on(agent.host).some((i) => i.service === service))
        until = Math.max(until ?? 0, agent.lost.holdUntil);
    }
    return until;
  }

  /** Live agents and what runs or is starting on each (their reports, this driver's starts). */
  loads(): HostLoad[] {
    return [...this.agents.values()]
      .filter((a) => !a.lost)
      .map((agent) => {
        const services: Record<string, number> = {};
        const ids = new Set(agent.reported.keys());
        const count = (service: string) => (services[service] = (services[service] ?? 0) + 1);
        for (const { service } of agent.reported.values()) count(service);
        for (const instance of this.on(agent.host))
          if (!ids.has(instance.id)) count(instance.service);
        for (const r of this.reserved.values()) if (r.host === agent.host) count(r.service);
        return { host: agent.host, capacity: agent.capacity, services };
      });
  }

  private describeAgents(): string {
    const agents = [...this.agents.values()];
    if (agents.length === 0) return 'no agent has sent a heartbeat';
    const loads = new Map(this.loads().map((l) => [l.host, l]));
    return agents
      .map((a) => {
        const load = loads.get(a.host);
        return load
          ? `${a.host} ${Object.values(load.services).reduce((s, n) => s + n, 0)}/${a.capacity}`
          : `${a.host} lost`;
      })
      .join(', ');
  }

  async start(spec: InstanceSpec): Promise<FleetInstance> {
    await this.open();
    const id = `${spec.service}-${spec.group}-${randomUUID().slice(0, 8)}`;
    const waitMs = this.options.capacityWaitMs ?? 30_000;
    let deadline = Date.now() + waitMs;
    for (;;) {
      if (this.closed) throw new Error('the agent fleet driver is closed');
      const held = this.heldUntil(spec.service);
      if (held !== undefined) {
        // Capacity was lost under this service: nothing new starts for it until the hold ends.
        deadline = Math.max(deadline, held + waitMs);
        await sleep(250);
        continue;
      }
      const host = pickHost(this.loads(), spec.service);
      if (!host) {
        if (Date.now() >= deadline)
          throw new Error(
            `no agent has a free slot for ${spec.service} within ${waitMs} ms (${this.describeAgents()})`,
          );
        await sleep(250);
        continue;
      }
      const answer = await this.startOn(host, id, spec);
      if (answer.type === 'InstanceStarted') {
        const data = answer.data as InstanceStartedV1;
        const instance: Tracked = {
          id,
          service: spec.service,
          group: spec.group,
          intended: { version: spec.version, digest: spec.digest },
          host: data.address,
          port: data.port,
          agentHost: host,
        };
        this.instances.set(id, instance);
        return publicView(instance);
      }
      const reason = (answer.data as InstanceStartFailedV1).reason;
      // Another driver took the last slot first: place again; any other failure is the build's.
      if (!reason.startsWith('no free slot'))
        throw new Error(`instance ${id} on ${host}: ${reason}`);
    }
  }

  private async startOn(host: string, id: string, spec: InstanceSpec): Promise<EventEnvelope> {
    const commandId = randomUUID();
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    this.reserved.set(commandId, { host, service: spec.service });
    const answered = this.answerOf(commandId, timeoutMs);
    try {
      const now = Date.now();
      const data: InstanceStartRequestedV1 = {
        commandId,
        host,
        instanceId: id,
        service: spec.service,
        group: spec.group,
        version: spec.version,
        digest: spec.digest,
        flags: spec.flags ?? [],
        apiProvides: spec.api?.provides ?? null,
        apiConsumes: spec.api?.consumes ?? null,
        portRange: this.options.portRange ?? null,
        requestedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + timeoutMs).toISOString(),
      };
      await this.append('InstanceStartRequested', host, id, data);
      const answer = await answered;
      if (!answer)
        throw new Error(`the agent of ${host} did not answer within ${timeoutMs} ms for ${id}`);
      return answer;
    } finally {
      this.reserved.delete(commandId);
      this.waiters.delete(commandId);
    }
  }

  /** Resolves with the event `done` is called with, or undefined after `timeoutMs`. */
  private answerOf(key: string, timeoutMs: number): Promise<EventEnvelope | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, {
        done: (event) => {
          clearTimeout(timer);
          this.waiters.delete(key);
          resolve(event);
        },
      });
    });
  }

  private async sendStop(host: string, instanceId: string, reason: string): Promise<void> {
    const data: InstanceStopRequestedV1 = {
      commandId: randomUUID(),
      host,
      instanceId,
      reason,
      requestedAt: new Date().toISOString(),
    };
    await this.append('InstanceStopRequested', host, instanceId, data).catch(() => undefined);
  }

  async stop(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    if (!instance) return;
    const agent = this.agents.get(instance.agentHost);
    if (!agent || agent.lost) {
      // Nobody to ask now: stopped if its agent comes back.
      this.instances.delete(instanceId);
      this.givenUp.set(instanceId, instance.agentHost);
      return;
    }
    const stopped = this.answerOf(`stop:${instanceId}`, 10_000);
    await this.sendStop(instance.agentHost, instanceId, 'stopped by the fleet driver');
    await stopped;
    this.instances.delete(instanceId);
  }

  async observe(service?: string): Promise<ObservedInstance[]> {
    await this.open();
    const selected = [...this.instances.values()].filter((i) => !service || i.service === service);
    return Promise.all(
      selected.map((instance) =>
        this.agents.get(instance.agentHost)?.lost
          ? // Its agent is lost: whatever the process does, nobody manages it.
            { ...publicView(instance), reported: null, healthy: false }
          : observeInstance(instance),
      ),
    );
  }

  /**
   * Instances live agents report for the service that this driver did not start: another
   * orchestrator replica started them before this one came to own the service. Tracked from now
   * on (observed, routed, stopped like its own) so they are not started a second time. Each is
   * asked what it runs; one that does not answer is left to its agent and started anew.
   */
  async adopt(service: string): Promise<FleetInstance[]> {
    await this.open();
    const found: Tracked[] = [];
    for (const agent of this.agents.values()) {
      if (agent.lost) continue;
      for (const report of agent.reported.values()) {
        if (report.service !== service || this.instances.has(report.instanceId)) continue;
        const { instanceId: id, group, digest, port } = report;
        const candidate = { id, service, group, port, host: agent.address, agentHost: agent.host };
        const observed = await observeInstance({ ...candidate, intended: { version: '', digest } });
        if (!observed.reported) continue;
        found.push({ ...candidate, intended: { version: observed.reported.version, digest } });
      }
    }
    for (const instance of found) this.instances.set(instance.id, instance);
    return found.map(publicView);
  }

  /** Agents as this driver sees them (for views and tests). */
  hosts(): { host: string; capacity: number; lost: boolean; instances: string[] }[] {
    return [...this.agents.values()].map((a) => ({
      host: a.host,
      capacity: a.capacity,
      lost: a.lost !== undefined,
      instances: this.on(a.host).map((i) => i.id),
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ready) {
      await this.ready.catch(() => undefined);
      await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
    }
    clearInterval(this.timer);
    await this.subscription?.stop();
  }

  private async append(type: string, host: string, correlationId: string, data: unknown) {
    await this.options.log.append([
      {
        type,
        version: 1,
        actor: this.options.actor,
        correlationId,
        causationId: null,
        key: host,
        data,
      },
    ]);
  }
}
