import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  JUDGE_FROM_CANARY_CONFIG,
  SYNTHETIC_TRAFFIC_HEADER,
  USER_STICKY_HEADER,
  type NewEvent,
  type Verdict,
  type VersionGroup,
} from '@rollgate/contracts';
import { TOPICS } from '@rollgate/contracts';
import type { Decision } from '@rollgate/event-sourcing';
import {
  ConcurrencyConflictError,
  EventStore,
  wakeUpChannel,
  WakeUpListener,
  type ExecuteOptions,
} from '@rollgate/persistence';
import {
  claimWorkByPartition,
  eachLimited,
  SOLE_OWNER,
  SERVICE_RUNTIME,
  type ServiceRuntime,
  type WorkOwnership,
} from '@rollgate/platform';
import {
  apiGateHolds,
  decideAdvance,
  decideApiGate,
  decideCompleteStep,
  decideDrift,
  decidePauseTimeout,
  decideRollbackDone,
  decideStepFailed,
  decideStepOverdue,
  decideVerdict,
  FINAL_PHASES,
  serviceReleases,
  serviceStreamId,
  type Release,
  type ServiceReleasesState,
  type Step,
} from '@rollgate/releases';
import { ApiGate } from '../api-gate/api-gate';
import { ReleaseEntity } from '../releases/release.entity';
import { buildOf, FLEET_MANAGER, FleetManager, type Build } from './fleet-manager';
import { raisedWeights } from './share-raise';
import { SIGNALS_WAKE_UP } from './signals.projection';
import { SyntheticTraffic, WORKSPACE_ROOT } from './synthetic-traffic';
import {
  AnalysisVerdictEntity,
  RouteAnswerEntity,
  ShareRaiseRequestEntity,
} from './signals.entity';

const ORIGIN = { actor: 'service:orchestrator', causationId: null };
const HELD_RECHECK_MS = 2_000;
/**
 * How often a pass looks at every service with a release: for timers (step deadlines, warm-up,
 * pauses) and as the safety net of wake-ups. Without wake-ups (SQLite: one process) passes are
 * also how signals are noticed, so they come four times as often.
 */
const PASS_MS = { wokenUp: 1_000, alone: 250 };
/**
 * With wake-ups, a service whose last visit ended waiting for another service's answer (a route,
 * a verdict) is woken when it commits: passes look at it again only this often, for its step
 * deadline and in case a wake-up was lost, instead of every second.
 */
const SIGNAL_RECHECK_MS = 3_000;
/** Services reconciled side by side in one pass. */
const PASS_CONCURRENCY = 16;

/**
 * Facts of each service's latest release this process has seen in the store and that stay true:
 * a request id appended to the log (it is append-only) and a route answered `applied` (answers are
 * never replaced). A pass that knows one does not ask the store again.
 */
class KnownFacts {
  private readonly byService = new Map<string, { releaseId: string; facts: Set<string> }>();

  has({ service, releaseId }: Pick<Release, 'service' | 'releaseId'>, fact: string): boolean {
    const known = this.byService.get(service);
    return known?.releaseId === releaseId && known.facts.has(fact);
  }

  add({ service, releaseId }: Pick<Release, 'service' | 'releaseId'>, fact: string): void {
    let known = this.byService.get(service);
    if (known?.releaseId !== releaseId) {
      known = { releaseId, facts: new Set() };
      this.byService.set(service, known);
    }
    known.facts.add(fact);
  }

  forget(service: string): void {
    this.byService.delete(service);
  }
}

/**
 * The release loop: compares what each active release needs (its fold) with what runs, and does
 * the next missing thing. Every step is idempotent: instances are started only when missing,
 * route and analysis requests carry deterministic ids, decisions add nothing when repeated.
 * After a restart it picks up from the log, so nothing important lives only in memory.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('reconciler');
  /** Route requests name the process life: after a restart the instances, so the routes, are new. */
  private readonly life = randomUUID().slice(0, 8);
  private readonly restored = new Set<string>();
  /** Owned services whose instances started by another replica were looked for (agents). */
  private readonly adopted = new Set<string>();
  /** Owned services a pass found with no active release: skipped until the read model shows one. */
  private readonly idle = new Set<string>();
  /** When the API gate last asked the fleet for a held release (release id → epoch ms). */
  private readonly gateAskedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Services being reconciled now (by a pass or a wake-up), and those to do again right after. */
  private readonly visiting = new Map<string, Promise<void>>();
  private readonly visitAgain = new Set<string>();
  private wakeUps: WakeUpListener | undefined;
  /** Owned services whose last visit ended waiting for an answer that wakes them, and when. */
  private readonly waitingOnAnswer = new Map<string, number>();
  /** Wake-ups that came during a rebalance, when no replica owned anything: visited after it. */
  private readonly wokenWhileRebalancing = new Set<string>();
  private stopping = false;
  /** Load generators of analysed steps whose release asked for synthetic traffic (by run id). */
  private readonly synthetic = new SyntheticTraffic(WORKSPACE_ROOT);
  private readonly syntheticFor = new Map<string, Release>();
  /**
   * Each service's stream as this process last folded it (state and version): a pass reads only
   * the events appended since, and its decisions are appended at that version (the fence).
   */
  private readonly passes = new Map<string, { state: ServiceReleasesState; version: number }>();
  private readonly known = new KnownFacts();
  /** The services this replica drives: those whose release partitions it holds (ADR 0015). */
  private ownership: WorkOwnership = SOLE_OWNER;

  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(FLEET_MANAGER) private readonly fleet: FleetManager,
    private readonly gate: ApiGate,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.ownership = await claimWorkByPartition(this.runtime, {
      loop: 'releases',
      topic: TOPICS.releases,
    });
    // Most partitions stay where they were (sticky assignment): their services are looked at
    // at once, not at the next pass, and so are those woken up while the group was rebalancing.
    this.ownership.onAssigned(() => this.afterRebalance());
    const wokenUp = await this.listenForSignals();
    this.timer = setInterval(() => void this.tick(), wokenUp ? PASS_MS.wokenUp : PASS_MS.alone);
  }

  /**
   * With replicas (PostgreSQL), a verdict or a route answer is folded by whichever replica its
   * partition went to; the projection then wakes every replica at commit, and the one that owns
   * the service reconciles it at once instead of at its next pass (which still comes, should a
   * wake-up be lost).
   */
  private async listenForSignals(): Promise<boolean> {
    const channel = wakeUpChannel(this.runtime.dataSource.options, SIGNALS_WAKE_UP);
    if (!channel) return false;
    this.wakeUps = new WakeUpListener(
      this.runtime.config.databaseUrl,
      channel,
      (service) => this.wakeUp(service),
      (problem) => this.logger.warn(problem),
    );
    await this.wakeUps.start();
    return true;
  }

  /** Something the service waits for committed: reconcile it now if this replica drives it. */
  wakeUp(service: string): void {
    if (this.stopping) return;
    if (!this.ownership.owns(service)) {
      if (this.ownership.rebalancing()) this.wokenWhileRebalancing.add(service);
      return;
    }
    // A visit in progress may have read the state before this commit: go again right after it.
    if (this.visiting.has(service)) this.visitAgain.add(service);
    else void this.visit(service);
  }

  private afterRebalance(): void {
    if (this.stopping) return;
    const woken = [...this.wokenWhileRebalancing];
    this.wokenWhileRebalancing.clear();
    for (const service of woken) this.wakeUp(service);
    void this.tick();
  }

  /** Before any module closes: the last pass finishes while the fleet and the store are open. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.wakeUps?.close();
    await this.running;
    await Promise.all(this.visiting.values());
    await this.synthetic.stopAll();
    await this.ownership.stop();
  }

  /** One pass over every active release; passes never overlap. */
  tick(): Promise<void> {
    this.running ??= this.reconcileAll()
      .catch((error: unknown) => this.logger.error(`reconcile failed: ${String(error)}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async reconcileAll(): Promise<void> {
    const { ownership } = this;
    // Nothing is owned until the group assigns again, and most of it comes back: keep it all.
    if (ownership.rebalancing()) return;
    // One row per service, however many releases it had: the table only grows.
    const rows = await this.runtime.dataSource.manager
      .createQueryBuilder(ReleaseEntity, 'r')
      .select('r.service', 'service')
      .addSelect('MAX(CASE WHEN r.phase IN (:...final) THEN 0 ELSE 1 END)', 'live')
      .setParameter('final', FINAL_PHASES)
      .groupBy('r.service')
      .getRawMany<{ service: string; live: number | string }>();
    const live = new Set(rows.filter((r) => Number(r.live) === 1).map((r) => r.service));
    // Services with a release first: after a takeover, the first pass also restores the fleet of
    // every newly owned service, and releases waiting on a decision should not queue behind that.
    const services = [...new Set([...live, ...rows.map((r) => r.service)])];
    // Passes over services wait on the store, the router and the analysis, not on this CPU: side
    // by side, so one slow service does not hold up the decisions of all the others.
    await eachLimited(services, PASS_CONCURRENCY, async (service) => {
      // Asked before each service: a rebalance mid-pass stops this replica at the next one.
      if (!ownership.owns(service))
        return ownership.rebalancing() ? undefined : this.letGo(service);
      // Nothing to drive: visited once per ownership (to restore its fleet), then only with a release.
      if (!live.has(service) && this.idle.has(service)) return;
      const waitingSince = this.waitingOnAnswer.get(service);
      if (this.wakeUps && waitingSince && Date.now() - waitingSince < SIGNAL_RECHECK_MS) return;
      await this.visit(service);
    });
  }

  /** Reconciles one service; a pass and a wake-up never reconcile the same service at once. */
  private visit(service: string): Promise<void> {
    const inProgress = this.visiting.get(service);
    if (inProgress) return inProgress;
    const visit = this.reconcile(service)
      .catch((error: unknown) => {
        if (error instanceof ConcurrencyConflictError) {
          // Another writer (a user's command, or a replica that now owns the service) appended
          // first: this pass's decision was made on an old state, so it is dropped, not retried.
          this.logger.debug(`${service}: stream moved on during the pass (${error.message})`);
        } else this.logger.error(`${service}: reconcile failed: ${String(error)}`);
      })
      .finally(() => {
        this.visiting.delete(service);
        if (this.visitAgain.delete(service)) this.wakeUp(service);
      });
    this.visiting.set(service, visit);
    return visit;
  }

  /** A service this replica no longer owns: its load generators stop; the new owner drives it. */
  private async letGo(service: string): Promise<void> {
    if (this.restored.delete(service)) this.logger.log(`${service}: owned by another replica now`);
    this.idle.delete(service);
    this.adopted.delete(service);
    this.waitingOnAnswer.delete(service);
    this.known.forget(service);
    await this.stopSyntheticTraffic(service, null);
  }

  /**
   * Starts a pass over the service: its state, and the stream version the pass's writes are
   * fenced on. Every write of the pass (decisions, route and analysis requests) is refused once
   * the stream moved on without this pass (another replica, or a user's command): the pass ends
   * and the next one starts from the new state.
   */
  private async startPass(service: string): Promise<ServiceReleasesState> {
    // Events are never changed once appended: a fold of the first N stays true.
    const known = this.passes.get(service) ?? { state: serviceReleases.initial(), version: 0 };
    const newer = await this.eventStore.load(serviceStreamId(service), undefined, known.version);
    const pass = {
      state: newer.reduce(serviceReleases.evolve, known.state),
      version: known.version + newer.length,
    };
    this.passes.set(service, pass);
    return pass.state;
  }

  private fence(service: string): ExecuteOptions {
    const pass = this.passes.get(service);
    return pass ? { fence: { streamId: serviceStreamId(service), version: pass.version } } : {};
  }

  private async decide(
    service: string,
    decide: (state: ServiceReleasesState) => Decision,
  ): Promise<number> {
    const pass = this.passes.get(service);
    if (!pass) throw new Error(`${service}: a decision outside a pass`);
    // Decided on the pass's state and appended at its version: when the stream moved on (a
    // user's command, a replica that now owns the service) the write is refused, and the next
    // visit decides again from the new state. Most checks decide nothing (a deadline not yet
    // due): no transaction at all.
    const appended = await this.eventStore.appendAt(
      serviceStreamId(service),
      pass.version,
      decide(pass.state),
    );
    pass.state = appended.reduce(serviceReleases.evolve, pass.state);
    pass.version += appended.length;
    return appended.length;
  }

  async reconcile(service: string): Promise<void> {
    this.waitingOnAnswer.delete(service);
    const state = await this.startPass(service);
    const release = state.active;
    await this.stopSyntheticTraffic(service, release);
    if (!this.adopted.has(service)) {
      // Newly owned: what the previous owner started still runs on the agents; drive it, do not
      // start it twice.
      const taken = await this.fleet.adopt(service, this.stableBuild(state)?.digest);
      if (taken > 0) this.logger.log(`${service}: took over ${taken} instances`);
      this.adopted.add(service);
    }
    if (release) {
      const drift = await this.fleet.drift(service);
      if (
        drift.length > 0 &&
        (await this.decide(service, (s) => decideDrift(s, drift, ORIGIN))) > 0
      ) {
        this.logger.warn(`${service}: drift on ${drift.map((d) => d.instanceId).join(', ')}`);
        return;
      }
      // A verdict already in for the step is decided before the fleet is touched: it judged the
      // instances that ran then, and after a takeover starting this replica's instances and
      // routing to them takes seconds.
      if (this.awaitsVerdict(release) && (await this.applyVerdict(release))) return;
    }
    await this.restoreFleet(state);
    if (!release) {
      this.idle.add(service);
      return;
    }
    this.idle.delete(service);
    switch (release.phase) {
      case 'paused':
        await this.decide(service, (s) =>
          decidePauseTimeout(s, release.releaseId, new Date(), ORIGIN),
        );
        await this.applyVerdict(release);
        return;
      case 'rolling-back':
        await this.rollBack(state, release);
        return;
      case 'progressing':
        if (release.drift.length > 0) return;
        if (release.step >= 0 && !release.stepCompleted) {
          const overdue = await this.decide(service, (s) =>
            decideStepOverdue(s, release.releaseId, new Date(), ORIGIN),
          );
          if (overdue === 0) await this.runStep(state, release, release.steps[release.step]!);
          return;
        }
        if (release.step === release.steps.length - 1) {
          if (!(await this.finalize(state, release))) return;
        } else await this.checkApiGate(release);
        await this.decide(service, (s) => decideAdvance(s, release.releaseId, ORIGIN));
        return;
      default:
        return;
    }
  }

  /**
   * The API compatibility gate before each step: the live fleet may have changed since the
   * request. A held release asks again at most every HELD_RECHECK_MS until the builds it breaks
   * are gone; an overridden one is not asked again.
   */
  private async checkApiGate(release: Release): Promise<void> {
    if (!release.artifact.api || release.apiGate?.overridden) return;
    const asked = this.gateAskedAt.get(release.releaseId) ?? 0;
    if (apiGateHolds(release) && Date.now() - asked < HELD_RECHECK_MS) return;
    this.gateAskedAt.set(release.releaseId, Date.now());
    const answer = await this.gate.checkRelease(
      release.service,
      release.version,
      await this.gate.resolve(release.artifact.api),
    );
    const policy = release.apiGate?.policy ?? this.runtime.config.apiCompatPolicy;
    await this.decide(release.service, (s) =>
      decideApiGate(s, release.releaseId, release.step + 1, { ...answer, policy }, ORIGIN),
    );
  }

  /**
   * After a restart nothing of the fleet runs: start the stable set again from what the log says
   * is stable, and route to it (a new route per process life: the instances are new).
   */
  private async restoreFleet(state: ServiceReleasesState): Promise<void> {
    const service = state.service!;
    const stable = this.stableBuild(state);
    if (!stable || !state.stable || this.fleet.of(service).length > 0 || this.restored.has(service))
      return;
    const release = state.active;
    // A rolling release in progress has already taken part of the stable set out.
    const keep = release && release.step >= 0 ? release.steps[release.step]!.keepStable : undefined;
    await this.fleet.ensure(service, 'stable', keep ?? state.stable.replicas, stable);
    this.restored.add(service);
    if (!release) {
      const lastRelease = state.releaseIds[state.releaseIds.length - 1]!;
      const pseudo = { releaseId: lastRelease, service, phase: 'succeeded' } as Release;
      await this.route(pseudo, `${lastRelease}:restore`, { stable: 100 });
    }
  }

  private build(release: Release): Build {
    return buildOf(release.artifact, release.version);
  }

  private stableBuild(state: ServiceReleasesState): Build | undefined {
    return state.stable ? buildOf(state.stable.artifact, state.stable.version) : undefined;
  }

  /** Instances this step needs, by role. */
  private async ensureInstances(
    state: ServiceReleasesState,
    release: Release,
    step: Step,
  ): Promise<void> {
    const { service } = release;
    const fresh = this.build(release);
    const stable = this.stableBuild(state);
    const replicas = release.plan.replicas;
    const ensureFresh = (group: VersionGroup, count: number) =>
      this.fleet.ensure(service, group, count, fresh).catch((error: unknown) => {
        throw new NewBuildFailedError(release.version, error);
      });
    const gated = Object.entries(step.weights)
      .filter(([, w]) => (w ?? 0) > 0)
      .map(([g]) => g as VersionGroup);
    if (release.strategy === 'blue-green' && !release.steps[0]!.description.startsWith('first')) {
      this.fleet.relabel(service, 'stable', 'blue');
      await ensureFresh('green', replicas);
      return;
    }
    if (gated.includes('baseline') && stable) {
      await this.fleet.ensure(service, 'baseline', 1, stable);
      await ensureFresh('canary', step.newInstances);
      return;
    }
    await ensureFresh('canary', step.newInstances);
    // Out of the route now, stopped once the route without them is confirmed (maxUnavailable).
    if (step.keepStable !== undefined && stable) {
      this.fleet.demote(service, 'stable', step.keepStable);
    }
  }

  private async runStep(state: ServiceReleasesState, release: Release, step: Step): Promise<void> {
    try {
      await this.ensureInstances(state, release, step);
    } catch (error) {
      if (!(error instanceof NewBuildFailedError)) throw error;
      // A build that cannot start is not retried into the step deadline: roll back now.
      await this.decide(release.service, (s) =>
        decideStepFailed(s, release.releaseId, error.message, ORIGIN),
      );
      return;
    }
    const { weights, routeId } = await this.stepWeights(release, step);
    const routed = await this.route(release, routeId, weights);
    if (routed !== 'applied') return;
    const { service, releaseId } = release;
    // The confirmed route no longer sends traffic to demoted instances: stop them now.
    await this.fleet.retire(service, 'retiring');
    switch (step.gate) {
      case 'analysis': {
        // No verdict yet: the visit looked for one before the fleet (reconcile).
        const runId = `${releaseId}:analysis:${release.step}`;
        if (this.known.has(release, runId)) {
          await this.startSyntheticTraffic(release, runId);
          this.waitingOnAnswer.set(service, Date.now());
          return;
        }
        const intervalSeconds = Math.max(1, Math.min(10, Math.floor(release.plan.stepSeconds / 3)));
        const started = await this.runtime.dataSource.manager.findOne(ReleaseEntity, {
          select: ['requestedAt'],
          where: { id: releaseId },
        });
        await this.request(release, runId, {
          type: 'AnalysisRequested',
          data: {
            analysisRunId: runId,
            releaseId,
            service,
            step: release.step,
            intervalSeconds,
            maxIntervals: Math.max(1, Math.ceil(release.plan.stepSeconds / intervalSeconds)),
            // The analysis judges with the canary config in force when the release started.
            judge: JUDGE_FROM_CANARY_CONFIG,
            ...(started && { releaseStartedAt: started.requestedAt }),
            ...(release.canaryConfig && { canaryConfig: release.canaryConfig }),
            ...(release.lowTraffic && { lowTraffic: release.lowTraffic }),
            ...(step.weights.canary !== undefined && { canarySharePercent: step.weights.canary }),
          },
        });
        await this.startSyntheticTraffic(release, runId);
        return;
      }
      case 'health': {
        const groups = Object.keys(step.weights) as VersionGroup[];
        if (await this.fleet.allHealthy(service, groups)) {
          await this.decide(service, (s) =>
            decideCompleteStep(
              s,
              releaseId,
              release.step,
              `all ${groups.join(', ')} instances healthy`,
              ORIGIN,
            ),
          );
        }
        return;
      }
      case 'warm': {
        const since = Date.parse(release.stepStartedAt ?? release.updatedAt);
        if (Date.now() >= since + release.plan.warmSeconds * 1000) {
          await this.decide(service, (s) =>
            decideCompleteStep(
              s,
              releaseId,
              release.step,
              `blue kept warm for ${release.plan.warmSeconds}s`,
              ORIGIN,
            ),
          );
        }
        return;
      }
    }
  }

  /**
   * The weights of the step as planned, or, once its analysis asked for larger shares (low
   * traffic, and the release allows it), raised canary and baseline: recorded once as
   * ReleaseShareRaised, routed under a request id of their own.
   */
  private async stepWeights(
    release: Release,
    step: Step,
  ): Promise<{ weights: Step['weights']; routeId: string }> {
    const planned = { weights: step.weights, routeId: `${release.releaseId}:${release.step}` };
    if (step.gate !== 'analysis') return planned;
    const analysisRunId = `${release.releaseId}:analysis:${release.step}`;
    const raise = await this.runtime.dataSource.manager.findOneBy(ShareRaiseRequestEntity, {
      analysisRunId,
    });
    if (!raise) return planned;
    const weights = raisedWeights(step.weights, raise.toPercent);
    if (weights === step.weights) return planned;
    const routeId = `${planned.routeId}:share-${weights.canary}`;
    await this.request(release, `${routeId}:raised`, {
      type: 'ReleaseShareRaised',
      data: {
        analysisRunId,
        releaseId: release.releaseId,
        service: release.service,
        step: release.step,
        fromPercent: step.weights.canary ?? 0,
        toPercent: weights.canary!,
        reason: raise.reason,
        requestId: `${routeId}:raised`,
      },
    });
    return { weights, routeId };
  }

  /**
   * Synthetic traffic while a step is analysed, when the release asks for it: a load generator
   * sends the mix at canary and baseline equally through the data plane, marked with
   * SYNTHETIC_TRAFFIC_HEADER; recorded once as SyntheticTrafficStarted.
   */
  private async startSyntheticTraffic(release: Release, runId: string): Promise<void> {
    const settings = release.lowTraffic?.synthetic;
    if (!settings || this.synthetic.isRunning(runId)) return;
    this.synthetic.start(runId, {
      routerUrl: this.runtime.config.serviceUrls.router,
      service: release.service,
      rps: settings.rps,
      mix: settings.mix,
      stickyHeader: USER_STICKY_HEADER,
    });
    this.syntheticFor.set(runId, release);
    await this.request(release, `${runId}:synthetic-started`, {
      type: 'SyntheticTrafficStarted',
      data: {
        requestId: `${runId}:synthetic-started`,
        analysisRunId: runId,
        releaseId: release.releaseId,
        service: release.service,
        step: release.step,
        rps: settings.rps,
        mix: settings.mix,
        header: SYNTHETIC_TRAFFIC_HEADER,
      },
    });
  }

  /** Stops the generators of steps no longer being analysed, recording what they sent. */
  private async stopSyntheticTraffic(service: string, active: Release | null): Promise<void> {
    for (const [runId, release] of this.syntheticFor) {
      if (release.service !== service) continue;
      const analysed =
        active?.releaseId === release.releaseId &&
        active.phase === 'progressing' &&
        !active.stepCompleted &&
        `${active.releaseId}:analysis:${active.step}` === runId;
      if (analysed) continue;
      this.syntheticFor.delete(runId);
      const sent = await this.synthetic.stop(runId);
      const why =
        active?.releaseId !== release.releaseId
          ? 'the release ended'
          : active.phase !== 'progressing'
            ? `the release is ${active.phase}`
            : `step ${release.step} is judged`;
      await this.request(release, `${runId}:synthetic-stopped`, {
        type: 'SyntheticTrafficStopped',
        data: {
          requestId: `${runId}:synthetic-stopped`,
          analysisRunId: runId,
          releaseId: release.releaseId,
          service,
          step: release.step,
          sent,
          reason: why,
        },
      });
    }
  }

  /** Applies the analysis verdict of the current step, if one arrived; true when there was one. */
  /** A progressing release in an analysis step that no verdict has completed yet. */
  private awaitsVerdict(release: Release): boolean {
    return (
      release.phase === 'progressing' &&
      release.drift.length === 0 &&
      release.step >= 0 &&
      !release.stepCompleted &&
      release.steps[release.step]!.gate === 'analysis'
    );
  }

  private async applyVerdict(release: Release): Promise<boolean> {
    const { service, releaseId, step } = release;
    const verdict = await this.runtime.dataSource.manager.findOneBy(AnalysisVerdictEntity, {
      analysisRunId: `${releaseId}:analysis:${step}`,
    });
    if (!verdict) return false;
    const reasons = JSON.parse(verdict.reasons) as string[];
    await this.decide(service, (s) =>
      decideVerdict(s, releaseId, step, verdict.verdict as Verdict, reasons, ORIGIN),
    );
    return true;
  }

  /**
   * Asks the router for weights (once per request id) and reports its answer. A failed answer
   * rolls the release back: never advance on a route the data plane did not confirm.
   */
  private async route(
    release: Release,
    requestId: string,
    weights: Step['weights'],
  ): Promise<'applied' | 'waiting' | 'failed'> {
    requestId = `${requestId}@${this.life}`;
    if (this.known.has(release, `applied:${requestId}`)) return 'applied';
    const answer = await this.answerOf(requestId);
    if (answer?.outcome === 'applied') {
      this.known.add(release, `applied:${requestId}`);
      return 'applied';
    }
    if (answer?.outcome === 'failed') {
      if (release.phase === 'progressing') {
        await this.decide(release.service, (s) =>
          decideStepFailed(
            s,
            release.releaseId,
            `route not confirmed: ${answer.reason ?? 'unknown'}`,
            ORIGIN,
          ),
        );
      }
      return 'failed';
    }
    const groups = Object.keys(weights) as VersionGroup[];
    await this.request(release, requestId, {
      type: 'RouteChangeRequested',
      data: {
        requestId,
        releaseId: release.releaseId,
        service: release.service,
        weights: Object.fromEntries(Object.entries(weights).filter(([, w]) => w !== undefined)),
        backends: this.fleet.backends(release.service, groups),
        stickyHeader: USER_STICKY_HEADER,
      },
    });
    this.waitingOnAnswer.set(release.service, Date.now());
    return 'waiting';
  }

  private answerOf(requestId: string): Promise<RouteAnswerEntity | null> {
    return this.runtime.dataSource.manager.findOneBy(RouteAnswerEntity, { requestId });
  }

  /** Appends a request event once per id (its own stream per release keeps the check cheap). */
  private async request(
    release: Release,
    id: string,
    event: Pick<NewEvent, 'type' | 'data'>,
  ): Promise<void> {
    if (this.known.has(release, id)) return;
    const streamId = `requests:${release.releaseId}`;
    await this.eventStore.execute(
      {
        name: 'release-requests',
        initial: () => new Set<string>(),
        evolve: (ids, e) => new Set([...ids, idOf(e.data)]),
      },
      streamId,
      (ids) =>
        ids.has(id)
          ? []
          : [
              {
                ...event,
                version: 1,
                actor: ORIGIN.actor,
                correlationId: release.releaseId,
                causationId: null,
                key: release.service,
              },
            ],
      this.fence(release.service),
    );
    this.known.add(release, id);
  }

  /** Before success: the new build becomes stable and takes all traffic, the old one is retired. */
  private async finalize(state: ServiceReleasesState, release: Release): Promise<boolean> {
    const { service } = release;
    const fresh = release.strategy === 'blue-green' && state.stable ? 'green' : 'canary';
    const retired: VersionGroup[] = fresh === 'green' ? ['blue'] : ['stable', 'baseline'];
    if (this.fleet.of(service, fresh).length > 0) {
      for (const group of retired) this.fleet.relabel(service, group, 'retiring');
      this.fleet.relabel(service, fresh, 'stable');
    }
    const routed = await this.route(release, `${release.releaseId}:final`, { stable: 100 });
    if (routed !== 'applied') return false;
    await this.fleet.retire(service, 'retiring');
    return true;
  }

  /** Traffic back to the stable version first, then the new instances go away. */
  private async rollBack(state: ServiceReleasesState, release: Release): Promise<void> {
    const { service } = release;
    const stable = this.stableBuild(state);
    // Roles follow the build, not earlier relabels: whatever runs the stable digest is stable,
    // everything else is on its way out (even if a finalize had begun to promote it).
    this.fleet.assignByBuild(service, stable?.digest);
    this.fleet.demote(service, 'stable', release.plan.replicas);
    // A rolling release may have replaced part of the stable set: bring it back to full size.
    if (stable) await this.fleet.ensure(service, 'stable', release.plan.replicas, stable);
    if (state.stable && this.fleet.of(service, 'stable').length > 0) {
      // A rollback route that was not confirmed is asked again under a new id until it is.
      let attempt = 0;
      while (
        (await this.answerOf(`${release.releaseId}:rollback:${attempt}@${this.life}`))?.outcome ===
        'failed'
      )
        attempt++;
      const routed = await this.route(release, `${release.releaseId}:rollback:${attempt}`, {
        stable: 100,
      });
      if (routed !== 'applied') return;
    }
    await this.fleet.retire(service, 'retiring');
    await this.decide(service, (s) => decideRollbackDone(s, release.releaseId, ORIGIN));
  }
}

function idOf(data: unknown): string {
  const { requestId, analysisRunId } = data as { requestId?: string; analysisRunId?: string };
  return requestId ?? analysisRunId ?? '';
}

/** The new build's instances did not start healthy; the stable build is retried instead. */
class NewBuildFailedError extends Error {
  constructor(version: string, cause: unknown) {
    super(
      `instances of ${version} did not start healthy: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
