import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  decideCancelRamp,
  decideRampTick,
  decideStartRamp,
  judgeRampStep,
  rampOf,
  runningRamps,
  type OutcomeBatch,
  type RampState,
  type SequentialSession,
} from '@rollgate/flags-domain/project';
import { TOPICS } from '@rollgate/contracts';
import {
  claimWorkByPartition,
  SERVICE_RUNTIME,
  SOLE_OWNER,
  type ServiceRuntime,
  type WorkOwnership,
} from '@rollgate/platform';
import type { GuardedRolloutDto, OutcomesDto } from './flags.dto';
import {
  assertProjectAccess,
  FlagsService,
  type Caller,
  type CommandResult,
} from './flags.service';
import { OutcomeStore } from './outcome-store';
import { RulesetFeed } from './ruleset-feed';

/** How often running ramps are judged, unless the module is told otherwise. */
export const DEFAULT_RAMP_TICK_MS = 5_000;
export const RAMP_TICK_MS = Symbol('RAMP_TICK_MS');
/** Reports of decided steps and ended ramps are kept this long (for status and inspection). */
const OUTCOME_RETENTION_MS = 60 * 60_000;
const PRUNE_EVERY_MS = 60_000;

/** What the runner remembers between looks at one ramp step (lost on restart: it starts over). */
interface StepMemory {
  readonly seen: Set<number>;
  readonly batches: OutcomeBatch[];
  session?: SequentialSession;
}

/**
 * Guarded rollouts: starts and cancels ramps, stores the outcomes SDKs report, and every tick
 * judges each running ramp's current step and appends whatever the pure decision says. Replicas
 * share the ramps by project: each judges the projects whose flags partitions it holds (ADR 0015);
 * during a rebalance a decision about a step another replica already moved past decides nothing.
 */
@Injectable()
export class GuardedRolloutService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('flags-guarded-rollout');
  private readonly outcomes: OutcomeStore;
  private readonly memory = new Map<string, StepMemory>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<number> | undefined;
  private prunedAt = 0;
  private ownership: WorkOwnership = SOLE_OWNER;

  constructor(
    private readonly flags: FlagsService,
    private readonly feed: RulesetFeed,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(RAMP_TICK_MS) private readonly tickMs: number,
  ) {
    this.outcomes = new OutcomeStore(runtime.dataSource);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.ownership = await claimWorkByPartition(this.runtime, {
      loop: 'ramps',
      topic: TOPICS.flags,
    });
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await this.ownership.stop();
  }

  start(project: string, key: string, body: GuardedRolloutDto, caller: Caller) {
    const rampId = randomUUID();
    return this.flags.execute(
      project,
      key,
      (state) =>
        decideStartRamp(
          state,
          {
            key,
            environment: body.environment,
            rampId,
            reason: body.reason ?? 'no reason given',
            ...(body.steps ? { steps: body.steps } : {}),
            ...(body.stepSeconds !== undefined ? { stepSeconds: body.stepSeconds } : {}),
            ...(body.judge ? { judge: body.judge } : {}),
          },
          { actor: caller.actor, causationId: null },
        ),
      caller,
    );
  }

  cancel(
    project: string,
    key: string,
    environment: string,
    reason: string | undefined,
    caller: Caller,
  ): Promise<CommandResult> {
    return this.flags.execute(
      project,
      key,
      (state) =>
        decideCancelRamp(
          state,
          { key, environment, reason: reason ?? 'cancelled by hand' },
          { actor: caller.actor, causationId: null },
        ),
      caller,
    );
  }

  /** The latest ramp of the flag in the environment, with what its current step has seen. */
  async status(project: string, key: string, environment: string) {
    const snapshot = await this.flags.snapshot(project);
    const ramp = rampOf(snapshot.state, key, environment);
    if (!ramp) {
      throw new NotFoundException(`flag "${key}" has no guarded rollout in ${environment}`);
    }
    const config = snapshot.state.flags[key]?.definition.environments[environment];
    const rows = await this.outcomes.ofStep(ramp.rampId, ramp.step);
    const sum = (cohort: 'on' | 'off', field: 'requests' | 'errors') =>
      rows.filter((r) => r.cohort === cohort).reduce((total, r) => total + r[field], 0);
    return {
      ...ramp,
      percentage: ramp.steps[ramp.step],
      currentRollout: config?.enabled ? (config.rollout?.percentage ?? 100) : 0,
      currentStep: {
        on: { requests: sum('on', 'requests'), errors: sum('on', 'errors') },
        off: { requests: sum('off', 'requests'), errors: sum('off', 'errors') },
      },
    };
  }

  /** Stores an SDK's report under the ramp step in force; without a running ramp, ignores it. */
  async record(project: string, key: string, body: OutcomesDto, caller: Caller) {
    const snapshot = await this.flags.snapshot(project);
    assertProjectAccess(snapshot.state, caller);
    const ramp = rampOf(snapshot.state, key, body.environment);
    if (!ramp || ramp.status !== 'running') {
      return { recorded: false, reason: 'no guarded rollout of this flag is running here' };
    }
    await this.outcomes.append({
      project,
      flagKey: key,
      environment: body.environment,
      rampId: ramp.rampId,
      step: ramp.step,
      receivedAt: new Date(),
      batches: body.cohorts.map((c) => ({
        cohort: c.cohort,
        requests: c.requests,
        errors: c.errors,
        latenciesMs: c.latenciesMs ?? [],
      })),
    });
    return { recorded: true, rampId: ramp.rampId, step: ramp.step };
  }

  /** Judges every running ramp once; returns how many decisions were appended. One at a time. */
  tick(now = new Date()): Promise<number> {
    const previous = this.ticking ?? Promise.resolve(0);
    const next = previous
      .catch(() => 0)
      .then(() => this.judgeAll(now))
      .catch((error: unknown) => {
        this.logger.warn(`guarded rollout tick failed: ${String(error)}`);
        return 0;
      });
    this.ticking = next;
    return next;
  }

  private async judgeAll(now: Date): Promise<number> {
    let decided = 0;
    const live = new Set<string>();
    for (const project of await this.flags.projectNames()) {
      if (!this.ownership.owns(project)) continue;
      const snapshot = await this.feed.current(project);
      if (!snapshot) continue;
      for (const ramp of runningRamps(snapshot.state)) {
        live.add(memoryKey(ramp));
        decided += await this.judge(project, ramp, now);
      }
    }
    for (const key of [...this.memory.keys()]) if (!live.has(key)) this.memory.delete(key);
    if (now.getTime() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now.getTime();
      const judging = [...live].map((key) => {
        const at = key.lastIndexOf(':');
        return { rampId: key.slice(0, at), step: Number(key.slice(at + 1)) };
      });
      await this.outcomes.prune(judging, new Date(now.getTime() - OUTCOME_RETENTION_MS));
    }
    return decided;
  }

  private async judge(project: string, ramp: RampState, now: Date): Promise<number> {
    const key = memoryKey(ramp);
    const memory = this.memory.get(key) ?? { seen: new Set<number>(), batches: [] };
    this.memory.set(key, memory);
    // New rows only, in arrival order: each look's samples extend the last one's.
    for (const row of await this.outcomes.ofStep(ramp.rampId, ramp.step)) {
      if (memory.seen.has(row.id)) continue;
      memory.seen.add(row.id);
      memory.batches.push(row);
    }
    const timeUp = now.getTime() - Date.parse(ramp.stepStartedAt) >= ramp.stepSeconds * 1000;
    const judged = judgeRampStep({
      ramp,
      batches: memory.batches,
      timeUp,
      ...(memory.session ? { session: memory.session } : {}),
    });
    if (judged.session) memory.session = judged.session;
    const command = { key: ramp.flagKey, environment: ramp.environment, look: judged.look };
    // The cached state says whether there is anything to decide; only then is the stream locked.
    const cached = await this.feed.current(project);
    if (!cached || decideRampTick(cached.state, command, now).length === 0) return 0;
    const result = await this.flags.execute(project, ramp.flagKey, (state) =>
      decideRampTick(state, command, now),
    );
    if (result.eventIds.length > 0) {
      this.logger.log(
        `ramp ${ramp.rampId} of ${project}/${ramp.flagKey} in ${ramp.environment} at ${ramp.steps[ramp.step]}%: ${judged.look.verdict}`,
      );
    }
    return result.eventIds.length;
  }
}

function memoryKey(ramp: RampState): string {
  return `${ramp.rampId}:${ramp.step}`;
}
