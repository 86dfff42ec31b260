import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  TOPICS,
  type AgentHeartbeatV1,
  type EventEnvelope,
  type InstanceStartedV1,
  type InstanceStartFailedV1,
  type InstanceStartRequestedV1,
  type InstanceStopReason,
  type InstanceStoppedV1,
  type InstanceStopRequestedV1,
  type VersionGroup,
} from '@rollgate/contracts';
import type { EventLog, Subscription } from '@rollgate/event-log';
import { instanceInfo, launchInstance, type BuildProfile } from '../local/instance-process';

export interface FleetAgentOptions {
  log: EventLog;
  /** This host's name: the agent takes the commands addressed to it. */
  host: string;
  /** How many instances it runs at most. */
  capacity: number;
  /** Where instances are reachable from other hosts (they listen on 127.0.0.1 here). */
  address: string;
  /** Its private state (what it started) and the instances' logs. */
  dataDir: string;
  /** Workspace root (where bin/run.js is). */
  root: string;
  profiles?: ReadonlyMap<string, BuildProfile>;
  heartbeatMs?: number;
  lostAfterMs?: number;
  startTimeoutMs?: number;
  /** Told what the agent does, one line each. */
  report?: (line: string) => void;
}

interface InstanceRecord {
  instanceId: string;
  service: string;
  group: VersionGroup;
  digest: string;
  port: number;
  pid: number;
}

interface Running extends InstanceRecord {
  child?: ChildProcess;
  stopping?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `rollgate agent`: runs the instances the fleet driver asks this host for, as real processes
 * that outlive the agent, and says what runs (heartbeats, InstanceStarted/Stopped). It keeps a
 * state file of what it started; after its own restart it adopts the instances still alive that
 * answer /info as themselves, and reports the others as cleaned up.
 */
export class FleetAgent {
  readonly agentId = randomUUID();
  private readonly running = new Map<string, Running>();
  private readonly startedAt = new Date().toISOString();
  private subscription: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private starting = 0;

  constructor(private readonly options: FleetAgentOptions) {}

  private get stateFile() {
    return join(this.options.dataDir, `agent-${this.options.host}.json`);
  }

  private get fifo() {
    return join(this.options.dataDir, 'lifeline.fifo');
  }

  private say(line: string) {
    this.options.report?.(line);
  }

  async start(): Promise<void> {
    mkdirSync(this.options.dataDir, { recursive: true });
    if (!existsSync(this.fifo)) execFileSync('mkfifo', [this.fifo]);
    await this.options.log.ensureTopics([TOPICS.fleet]);
    await this.adopt();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), this.heartbeatMs);
    this.subscription = await this.options.log.subscribe({
      groupId: `rollgate-agent-${this.options.host}`,
      topics: [TOPICS.fleet.name],
      handle: async (batch) => {
        const mine = batch.filter(
          ({ event }) => (event.data as { host?: string }).host === this.options.host,
        );
        await Promise.all(mine.map(({ event }) => this.onCommand(event)));
      },
    });
    this.say(
      `agent ${this.options.host} running: capacity ${this.options.capacity}, ${this.running.size} adopted`,
    );
  }

  private get heartbeatMs() {
    return this.options.heartbeatMs ?? 2_000;
  }

  /** Instances of an earlier life of this agent: adopted when they still answer as themselves. */
  private async adopt(): Promise<void> {
    const recorded = this.readState();
    for (const record of recorded) {
      const answer = alive(record.pid) ? await instanceInfo('127.0.0.1', record.port) : null;
      if (answer?.info.instanceId === record.instanceId) {
        this.running.set(record.instanceId, { ...record });
        await this.emit('InstanceStarted', record.instanceId, {
          commandId: null,
          host: this.options.host,
          instanceId: record.instanceId,
          service: record.service,
          group: record.group,
          digest: record.digest,
          address: this.options.address,
          port: record.port,
          pid: record.pid,
          adopted: true,
        } satisfies InstanceStartedV1);
        this.say(`adopted ${record.instanceId} (pid ${record.pid}, port ${record.port})`);
      } else {
        // Dead, or its pid now belongs to something else: nothing of ours to stop there.
        await this.reportStopped(record, 'cleaned-up', null);
        this.say(`cleaned up ${record.instanceId}: not running as itself any more`);
      }
    }
    this.saveState();
  }

  private readState(): InstanceRecord[] {
    try {
      return (JSON.parse(readFileSync(this.stateFile, 'utf8')) as { instances: InstanceRecord[] })
        .instances;
    } catch {
      return [];
    }
  }

  private saveState(): void {
    const instances: InstanceRecord[] = [...this.running.values()].map(
      ({ instanceId, service, group, digest, port, pid }) => ({
        instanceId,
        service,
        group,
        digest,
        port,
        pid,
      }),
    );
    const temp = `${this.stateFile}.tmp`;
    writeFileSync(temp, JSON.stringify({ host: this.options.host, instances }, null, 2));
    renameSync(temp, this.stateFile);
  }

  private async beat(): Promise<void> {
    // Adopted instances are no children of ours: a dead one is noticed here.
    for (const instance of this.running.values()) {
      if (!instance.child && !instance.stopping && !alive(instance.pid)) {
        this.running.delete(instance.instanceId);
        this.saveState();
        await this.reportStopped(instance, 'exited', null);
      }
    }
    const instances = [...this.running.values()].map(
      ({ instanceId, service, group, digest, port, pid }) => ({
        instanceId,
        service,
        group,
        digest,
        port,
        pid,
      }),
    );
    await this.emit('AgentHeartbeat', this.options.host, {
      host: this.options.host,
      agentId: this.agentId,
      address: this.options.address,
      capacity: this.options.capacity,
      used: instances.length + this.starting,
      instances,
      startedAt: this.startedAt,
      intervalMs: this.heartbeatMs,
      lostAfterMs: this.options.lostAfterMs ?? 5 * this.heartbeatMs,
    } satisfies AgentHeartbeatV1);
  }

  private async onCommand(event: EventEnvelope): Promise<void> {
    if (event.type === 'InstanceStartRequested')
      return this.startInstance(event.data as InstanceStartRequestedV1);
    if (event.type === 'InstanceStopRequested')
      return this.stopInstance((event.data as InstanceStopRequestedV1).instanceId);
  }

  private async startInstance(command: InstanceStartRequestedV1): Promise<void> {
    const { commandId, instanceId } = command;
    // A command read late (this agent was down) is not run: its driver has given up on it.
    if (Date.parse(command.expiresAt) < Date.now()) return;
    const known = this.running.get(instanceId);
    if (known) return this.reportStarted(commandId, known);
    const fail = (reason: string) =>
      this.emit('InstanceStartFailed', instanceId, {
        commandId,
        host: this.options.host,
        instanceId,
        reason,
      } satisfies InstanceStartFailedV1);
    if (this.running.size + this.starting >= this.options.capacity)
      return fail(`no free slot on ${this.options.host} (capacity ${this.options.capacity})`);
    this.starting++;
    try {
      const profile = this.options.profiles?.get(command.digest);
      const runs = profile?.actuallyRuns ?? { version: command.version, digest: command.digest };
      const port = command.portRange ? await this.freePort(command.portRange) : 0;
      if (port === undefined)
        return await fail(
          `no free port in ${command.portRange!.from}-${command.portRange!.to} on ${this.options.host}`,
        );
      const spec = {
        service: command.service,
        version: command.version,
        digest: command.digest,
        group: command.group,
        flags: command.flags,
        api: {
          ...(command.apiProvides ? { provides: command.apiProvides } : {}),
          ...(command.apiConsumes ? { consumes: command.apiConsumes } : {}),
        },
      };
      const launched = await launchInstance({
        root: this.options.root,
        id: instanceId,
        spec,
        runs,
        profile: this.options.profiles?.get(runs.digest) ?? {},
        port,
        // Reached at --address: only the loopback when that is where others reach it.
        listenHost: this.options.address === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0',
        ...(this.options.startTimeoutMs !== undefined
          ? { startTimeoutMs: this.options.startTimeoutMs }
          : {}),
        tie: {
          kind: 'detached',
          logFile: join(this.options.dataDir, `${instanceId}.log`),
          stdinFile: this.fifo,
        },
      }).catch((error: unknown) => error as Error);
      if (launched instanceof Error) return await fail(launched.message);
      const instance: Running = {
        instanceId,
        service: command.service,
        group: command.group,
        digest: command.digest,
        port: launched.port,
        pid: launched.child.pid!,
        child: launched.child,
      };
      this.running.set(instanceId, instance);
      this.saveState();
      void launched.exited.then(async (code) => {
        if (this.running.get(instanceId) !== instance || instance.stopping) return;
        this.running.delete(instanceId);
        this.saveState();
        await this.reportStopped(instance, 'exited', code).catch(() => undefined);
      });
      this.say(`started ${instanceId} (pid ${instance.pid}, port ${instance.port})`);
      await this.reportStarted(commandId, instance);
    } finally {
      this.starting--;
    }
  }

  private reportStarted(commandId: string, instance: Running): Promise<void> {
    return this.emit('InstanceStarted', instance.instanceId, {
      commandId,
      host: this.options.host,
      instanceId: instance.instanceId,
      service: instance.service,
      group: instance.group,
      digest: instance.digest,
      address: this.options.address,
      port: instance.port,
      pid: instance.pid,
      adopted: false,
    } satisfies InstanceStartedV1);
  }

  private async freePort(range: { from: number; to: number }): Promise<number | undefined> {
    const taken = new Set([...this.running.values()].map((i) => i.port));
    for (let port = range.from; port <= range.to; port++) {
      if (taken.has(port)) continue;
      const free = await new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      });
      if (free) return port;
    }
    return undefined;
  }

  private async stopInstance(instanceId: string): Promise<void> {
    const instance = this.running.get(instanceId);
    // Unknown, or a stop already under way (a driver repeats its stop until it is answered).
    if (!instance || instance.stopping) return;
    instance.stopping = true;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(instance.pid, name);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + 3_000;
    while (alive(instance.pid) && Date.now() < deadline) await sleep(50);
    if (alive(instance.pid)) signal('SIGKILL');
    while (alive(instance.pid)) await sleep(20);
    this.running.delete(instanceId);
    this.saveState();
    this.say(`stopped ${instanceId}`);
    await this.reportStopped(instance, 'requested', instance.child?.exitCode ?? null);
  }

  private reportStopped(
    instance: InstanceRecord,
    reason: InstanceStopReason,
    exitCode: number | null,
  ): Promise<void> {
    return this.emit('InstanceStopped', instance.instanceId, {
      host: this.options.host,
      instanceId: instance.instanceId,
      service: instance.service,
      reason,
      exitCode,
    } satisfies InstanceStoppedV1);
  }

  /** What runs here now (for tests and the CLI). */
  instances(): InstanceRecord[] {
    return [...this.running.values()];
  }

  /** Stops heartbeats and commands; the instances keep running (a restart adopts them). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.subscription?.stop();
  }

  private async emit(type: string, correlationId: string, data: unknown): Promise<void> {
    await this.options.log.append([
      {
        type,
        version: 1,
        actor: `agent:${this.options.host}`,
        correlationId,
        causationId: null,
        key: this.options.host,
        data,
      },
    ]);
  }
}
