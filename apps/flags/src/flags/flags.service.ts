import {
  BadRequestException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { EventEnvelope } from '@rollgate/contracts';
import { fold, type Decision } from '@rollgate/event-sourcing';
import {
  buildRuleset,
  DEFAULT_ENVIRONMENTS,
  type Constraint,
  evaluate,
  expiryDate,
  isExpired,
  parseIsoInstant,
  type EvaluationContext,
  type EvaluationResult,
  type FlagDefinition,
  type FlagEnvironment,
  type Prerequisite,
} from '@rollgate/flags-domain';
import {
  DEFAULT_PROJECT,
  decideConfigureProject,
  decideCreateFlag,
  decideDefineSegment,
  decideExtend,
  decideFlagDebt,
  decideKill,
  decideRetire,
  decideSetRollout,
  decideUpdateDefinition,
  decideUpdateEnvironment,
  FlagInputError,
  initialProjectState,
  projectAccessProblem,
  projectFlagsAggregate,
  projectStreamId,
  releaseBlockingFlags,
  rulesetOf,
  turnsOn,
  type FleetSnapshot,
  type Origin,
  type ProjectFlagsState,
} from '@rollgate/flags-domain/project';
import { EventStore } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { FlagProjectEntity, FlagSummaryEntity } from './flag.entity';
import type {
  DefinitionUpdateDto,
  EnvironmentConfigDto,
  FlagCreateDto,
  ProjectCreateDto,
  RolloutDto,
  SegmentDto,
} from './flags.dto';
import { FLEET_VIEW, type FleetView } from './fleet-view';
import { RulesetFeed, type ProjectSnapshot } from './ruleset-feed';

/** Which ruleset to evaluate with: the current one unless a version or an instant is given. */
export interface AsOf {
  version?: number;
  at?: string;
}

export interface CommandResult {
  project: string;
  key: string;
  rulesetVersion: number;
  eventIds: string[];
}

/** Who asks for a change: the actor recorded on its events, and the services its token may touch. */
export interface Caller {
  readonly actor: string;
  /** Undefined: every service. */
  readonly services?: readonly string[] | undefined;
}

/** How often the flag-debt sweep looks for newly stale and expired flags. */
const DEBT_SWEEP_INTERVAL_MS = 60_000;
const SWEEPER: Origin = { actor: 'service:flags', causationId: null };
const NO_REASON = 'no reason given';

/** Thin edge between HTTP and the pure flag decisions: load, decide, append, publish, notify. */
@Injectable()
export class FlagsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('flags');
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(FLEET_VIEW) private readonly fleet: FleetView,
    private readonly feed: RulesetFeed,
  ) {}

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => {
      this.sweepDebt().catch((error: unknown) =>
        this.logger.warn(`flag-debt sweep failed: ${String(error)}`),
      );
    }, DEBT_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  // ---- commands --------------------------------------------------------------------------------

  configureProject(body: ProjectCreateDto, caller: Caller): Promise<CommandResult> {
    return this.execute(body.name, '', (state) => {
      // Naming owners is checked against the token; keeping them is not (they may be wider).
      assertProjectAccess(state, caller, body.services ?? (state.exists ? undefined : []));
      return decideConfigureProject(
        state,
        {
          environments:
            body.environments ?? (state.exists ? state.environments : DEFAULT_ENVIRONMENTS),
          blockReleasesOnExpiredFlags:
            body.blockReleasesOnExpiredFlags ?? state.blockReleasesOnExpiredFlags,
          services: body.services ?? state.services,
          reason: body.reason ?? NO_REASON,
        },
        origin(caller.actor),
      );
    });
  }

  create(body: FlagCreateDto, caller: Caller): Promise<CommandResult> {
    const now = new Date();
    return this.execute(
      body.project ?? DEFAULT_PROJECT,
      body.key,
      (state) =>
        decideCreateFlag(
          state,
          {
            key: body.key,
            type: body.type,
            owner: body.owner,
            reason: body.reason ?? NO_REASON,
            ...(body.description ? { description: body.description } : {}),
            ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
          },
          origin(caller.actor),
          now,
        ),
      caller,
    );
  }

  async updateEnvironment(
    project: string,
    key: string,
    environment: string,
    body: EnvironmentConfigDto,
    caller: Caller,
  ): Promise<CommandResult> {
    const { reason, force, ...config } = body;
    if (force && !reason) {
      throw badRequest([
        { field: 'reason', problem: 'forcing past the enablement guard needs a reason' },
      ]);
    }
    const current = await this.feed.current(project);
    const before = current?.state.flags[key]?.definition.environments[environment];
    // Only a change that turns the flag on asks the fleet; the decision checks again.
    const fleet = turnsOn(before, config as FlagEnvironment)
      ? await this.fleet.liveInstances()
      : undefined;
    return this.execute(
      project,
      key,
      (state) =>
        decideUpdateEnvironment(
          state,
          {
            key,
            environment,
            config: stripUndefined(config) as unknown as FlagEnvironment,
            reason: reason ?? NO_REASON,
            fleet: fleet ?? notAsked(),
            ...(force ? { force: { reason: reason! } } : {}),
          },
          origin(caller.actor),
        ),
      caller,
    );
  }

  setRollout(project: string, key: string, body: RolloutDto, caller: Caller) {
    return this.execute(
      project,
      key,
      (state) =>
        decideSetRollout(
          state,
          {
            key,
            environment: body.environment,
            percentage: body.percentage,
            reason: body.reason ?? NO_REASON,
            ...(body.groupId ? { groupId: body.groupId } : {}),
          },
          origin(caller.actor),
        ),
      caller,
    );
  }

  updateDefinition(project: string, key: string, body: DefinitionUpdateDto, caller: Caller) {
    return this.execute(
      project,
      key,
      (state) =>
        decideUpdateDefinition(
          state,
          {
            key,
            reason: body.reason ?? NO_REASON,
            ...(body.owner !== undefined ? { owner: body.owner } : {}),
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(body.prerequisites !== undefined
              ? { prerequisites: body.prerequisites as Prerequisite[] }
              : {}),
          },
          origin(caller.actor),
        ),
      caller,
    );
  }

  defineSegment(project: string, key: string, body: SegmentDto, caller: Caller) {
    return this.execute(
      project,
      key,
      (state) =>
        decideDefineSegment(
          state,
          {
            key,
            constraints: body.constraints as Constraint[],
            reason: body.reason ?? NO_REASON,
            ...(body.description ? { description: body.description } : {}),
          },
          origin(caller.actor),
        ),
      caller,
    );
  }

  kill(project: string, key: string, environment: string, reason: string, caller: Caller) {
    return this.execute(
      project,
      key,
      (state) => decideKill(state, { key, environment, reason }, origin(caller.actor)),
      caller,
    );
  }

  retire(project: string, key: string, reason: string, caller: Caller) {
    return this.execute(
      project,
      key,
      (state) => decideRetire(state, { key, reason }, origin(caller.actor)),
      caller,
    );
  }

  extend(
    project: string,
    key: string,
    expiresAt: string,
    reason: string | undefined,
    caller: Caller,
  ) {
    const now = new Date();
    return this.execute(
      project,
      key,
      (state) =>
        decideExtend(
          state,
          { key, expiresAt, reason: reason ?? NO_REASON },
          origin(caller.actor),
          now,
        ),
      caller,
    );
  }

  /** Raises FlagDebtDetected for flags that became stale or expired since the last sweep. */
  async sweepDebt(now = new Date()): Promise<number> {
    let raised = 0;
    for (const project of await this.projectNames()) {
      // The cached fold says whether anything is due; only then is the stream loaded and locked.
      const cached = await this.feed.current(project);
      if (!cached || decideFlagDebt(cached.state, now, SWEEPER).length === 0) continue;
      const result = await this.execute(project, '', (state) =>
        state.exists ? decideFlagDebt(state, now, SWEEPER) : [],
      );
      raised += result.eventIds.length;
    }
    return raised;
  }

  /**
   * Load, decide, append, publish, notify (also used by the guarded-rollout runner). A caller's
   * token must own the project (checked on the state the decision sees); the runner has none.
   */
  async execute(
    project: string,
    key: string,
    decide: (state: ProjectFlagsState) => Decision,
    caller?: Caller,
  ): Promise<CommandResult> {
    let events: EventEnvelope[];
    try {
      events = await this.eventStore.execute(
        projectFlagsAggregate(project),
        projectStreamId(project),
        (state) => {
          if (caller) assertProjectAccess(state, caller);
          return decide(state);
        },
      );
    } catch (error) {
      if (error instanceof FlagInputError) throw badRequest(error.problems);
      throw error;
    }
    if (events.length > 0) this.runtime.relay.kick();
    // Streams hear about the change now, not when the log delivers it back.
    await this.feed.changed(project);
    const last = events[events.length - 1]?.data as { rulesetVersion?: number } | undefined;
    const version = last?.rulesetVersion ?? (await this.feed.current(project))?.state.version ?? 0;
    return { project, key, rulesetVersion: version, eventIds: events.map((e) => e.id) };
  }

  // ---- queries ---------------------------------------------------------------------------------

  async snapshot(project: string): Promise<ProjectSnapshot> {
    const snapshot = await this.feed.current(project);
    if (!snapshot) throw new NotFoundException(`flag project "${project}" not found`);
    return snapshot;
  }

  async evaluate(
    project: string,
    key: string,
    environment: string,
    context: EvaluationContext,
    asOf: AsOf = {},
  ): Promise<EvaluationResult> {
    const { ruleset } = await this.snapshot(project);
    if (asOf.at === undefined && asOf.version === undefined) {
      return evaluate(ruleset, key, environment, context);
    }
    return evaluate(await this.rulesetAsOf(project, asOf), key, environment, context);
  }

  /**
   * Replay: the project's ruleset as it was at a version or an instant, folded from its stream,
   * so "what did this user get then" has the same answer as it had then.
   */
  private async rulesetAsOf(project: string, asOf: AsOf) {
    const instant = asOf.at === undefined ? undefined : parseIsoInstant(asOf.at);
    if (asOf.at !== undefined && instant === undefined) {
      throw badRequest([
        { field: 'at', problem: 'must be an ISO 8601 date-time with a time zone' },
      ]);
    }
    const history = await this.eventStore.load(projectStreamId(project));
    const kept = history.filter(
      (event) =>
        (asOf.version === undefined || (event.sequence ?? 0) <= asOf.version) &&
        (instant === undefined || Date.parse(event.occurredAt) <= instant),
    );
    const state = fold(projectFlagsAggregate(project), kept);
    const built = buildRuleset(rulesetOf(state));
    if (!built.ok) throw new Error(`ruleset ${project}@${state.version} does not build`);
    return built.ruleset;
  }

  async get(project: string, key: string): Promise<FlagSummaryEntity> {
    const row = await this.runtime.dataSource.manager.findOneBy(FlagSummaryEntity, {
      project,
      key,
    });
    if (!row) throw new NotFoundException(`flag "${key}" not found in project "${project}"`);
    return row;
  }

  list(project: string, includeRetired: boolean): Promise<FlagSummaryEntity[]> {
    return this.runtime.dataSource.manager.find(FlagSummaryEntity, {
      where: includeRetired ? { project } : { project, retired: false },
      order: { key: 'ASC' },
    });
  }

  /** Potentially stale and expired flags (after a sweep, so their events are raised first). */
  async stale(project: string | undefined, now = new Date()) {
    await this.sweepDebt(now);
    const rows = await this.runtime.dataSource.manager.find(FlagSummaryEntity, {
      where: project ? { project, retired: false } : { retired: false },
      order: { project: 'ASC', key: 'ASC' },
    });
    const at = now.toISOString();
    return rows
      .filter((row) => row.potentiallyStaleAt !== null && row.potentiallyStaleAt < at)
      .map((row) => ({
        project: row.project,
        key: row.key,
        type: row.type,
        owner: row.owner,
        createdAt: row.createdAt,
        potentiallyStaleAt: row.potentiallyStaleAt,
        expiresAt: row.expiresAt,
        expired: row.expiresAt !== null && row.expiresAt < at,
      }));
  }

  /**
   * Expired flags that block a new release of `service`, in projects that ask for it, among the
   * flags the new build reads (`declared`) or, when not given, those its live builds declare.
   */
  async blocking(service: string, declared: readonly string[] | undefined, now = new Date()) {
    // A new build names what it reads; otherwise the service reads what its live builds declare.
    const fleet = declared ? undefined : await this.fleet.liveInstances();
    const fromFleet = fleet?.ok
      ? fleet.instances.filter((i) => i.service === service).flatMap((i) => i.flags ?? [])
      : [];
    const reads = [...new Set(declared ?? fromFleet)].sort();
    const projects = await this.runtime.dataSource.manager.find(FlagProjectEntity, {
      where: { blockReleasesOnExpired: true },
    });
    const blocking: { project: string; key: string; owner: string; expiresAt: string }[] = [];
    for (const { name } of projects) {
      const snapshot = await this.feed.current(name);
      if (!snapshot) continue;
      for (const flag of releaseBlockingFlags(snapshot.state, reads, now)) {
        blocking.push({ project: name, ...debtOf(flag, now) });
      }
    }
    return {
      service,
      reads,
      ...(fleet && !fleet.ok ? { fleetError: fleet.error } : {}),
      blocked: blocking.length > 0,
      flags: blocking,
    };
  }

  /**
   * Every project with its settings and how many live flags it holds, by name, from the read
   * model. Reads are not limited by owner services (any read token lists any project's flags),
   * so every project is listed; the default one always exists.
   */
  async projects() {
    const rows = await this.runtime.dataSource.manager.find(FlagProjectEntity);
    const states = rows.map((row) => JSON.parse(row.state) as ProjectFlagsState);
    if (!states.some((state) => state.project === DEFAULT_PROJECT)) {
      states.push(initialProjectState(DEFAULT_PROJECT));
    }
    return states
      .filter((state) => state.exists)
      .sort((a, b) => a.project.localeCompare(b.project))
      .map((state) => ({
        name: state.project,
        environments: state.environments,
        services: state.services,
        blockReleasesOnExpiredFlags: state.blockReleasesOnExpiredFlags,
        flags: Object.keys(state.flags).length,
        version: state.version,
      }));
  }

  async projectNames(): Promise<string[]> {
    const rows = await this.runtime.dataSource.manager.find(FlagProjectEntity, {
      select: { name: true },
    });
    return [...new Set([DEFAULT_PROJECT, ...rows.map((r) => r.name)])];
  }
}

function debtOf(flag: FlagDefinition, now: Date) {
  return {
    key: flag.key,
    owner: flag.owner ?? '',
    expiresAt: expiryDate(flag)?.toISOString() ?? '',
    expired: isExpired(flag, now),
  };
}

function origin(actor: string): Origin {
  return { actor, causationId: null };
}

/**
 * For changes that did not turn the flag on when they were read: should a concurrent change make
 * this one turn it on after all, the guard refuses rather than pass unchecked.
 */
function notAsked(): FleetSnapshot {
  return { ok: false, error: 'the flag changed while the request was checked; retry' };
}

function badRequest(problems: readonly { field: string; problem: string }[]) {
  return new BadRequestException({ message: 'validation failed', details: [...problems] });
}

function stripUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** 403 unless the caller's token may change the project (and name `newOwners` as its owners). */
export function assertProjectAccess(
  state: ProjectFlagsState,
  caller: Caller,
  newOwners?: readonly string[],
): void {
  const problem = projectAccessProblem(state, caller.services, newOwners);
  if (problem) throw new ForbiddenException(problem);
}
