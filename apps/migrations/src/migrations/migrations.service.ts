import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { In } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { Decision } from '@rollgate/event-sourcing';
import { EventStore } from '@rollgate/persistence';
import {
  migrationDatabases,
  SERVICE_RUNTIME,
  type FieldProblem,
  type ServiceRuntime,
} from '@rollgate/platform';
import {
  contractGate,
  databaseProblem,
  decideBackfillProgress,
  decideContractRefused,
  decideFailed,
  decidePhaseCompleted,
  decidePlan,
  decideStartPhase,
  lintPlan,
  lintSql,
  migrationAggregate,
  migrationStreamId,
  parsePlan,
  parsePlanText,
  schemaProblems,
  versionSchemaName,
  type LintFinding,
  type Migration,
  type MigrationPhaseName,
  type MigrationPlan,
  type Origin,
  type PlanProblem,
  type TargetPolicy,
} from '@rollgate/migrations-domain';
import { fold } from '@rollgate/event-sourcing';
import { LockTimeoutExhaustedError } from '../executor/lock-retry';
import {
  PgMigrationExecutor,
  PlanRejectedError,
  type BackfillProgress,
  type PhaseLock,
} from '../executor/pg-executor';
import { FLEET_VIEW, FleetUnavailableError, type FleetView } from './fleet-view';
import { MigrationEntity } from './migration.entity';
import { ReleaseRollbackRequestEntity } from './release-rollback-request.entity';
import type { ReleaseRollbackHandler, ReleaseRollbackJob } from './release-rollback.listener';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Executor settings the service applies to every target (tests shorten them). */
export interface MigrationsSettings {
  lockTimeoutMs: number;
  lockMaxAttempts: number;
  /** How often an automatic contract asks the fleet again. */
  gatePollMs: number;
  /** At most one progress event per table this often (the last batch always reports). */
  progressEveryMs: number;
}

export const MIGRATIONS_SETTINGS = Symbol('MIGRATIONS_SETTINGS');

export const DEFAULT_MIGRATIONS_SETTINGS: MigrationsSettings = {
  lockTimeoutMs: 500,
  lockMaxAttempts: 10,
  gatePollMs: 5000,
  progressEveryMs: 1000,
};

/**
 * The edge between HTTP and the Migration aggregate: decisions are pure, this runs the phases on
 * the target database (in the background: a phase may wait on locks or backfill for a long time),
 * records each step as an event, and asks the fleet before contract.
 */
@Injectable()
export class MigrationsService
  implements OnApplicationBootstrap, OnModuleDestroy, ReleaseRollbackHandler
{
  private readonly logger = new Logger('migrations');
  private readonly executors = new Map<string, PgMigrationExecutor>();
  /** Migrations with a phase running in this process: a second start must not run it twice. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Stops a running backfill between batches (a release rollback does not wait for it to finish). */
  private readonly aborts = new Map<string, AbortController>();
  private closed = false;
  /** The recorded release rollbacks are being worked through (one pass at a time). */
  private draining: Promise<void> | undefined;

  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(FLEET_VIEW) private readonly fleet: FleetView,
    @Inject(MIGRATIONS_SETTINGS) private readonly settings: MigrationsSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.every(this.settings.gatePollMs, () => this.drainReleaseRollbacks());
    await this.rescheduleAutomaticContracts();
  }

  /**
   * An automatic contract waits in a timer of the process that ran migrate: after a restart, the
   * migrations still waiting (migrated, or contracting when the process died) are scheduled again.
   */
  private async rescheduleAutomaticContracts(): Promise<void> {
    const rows = await this.runtime.dataSource.manager.find(MigrationEntity, {
      where: { status: In(['migrating', 'migrated', 'contracting']) },
    });
    for (const row of rows) {
      const state = await this.load(row.id);
      if (state.plan?.contract !== 'automatic') continue;
      if (state.status !== 'migrated' && state.status !== 'contracting') continue;
      this.logger.log(`automatic contract of ${row.id} scheduled again after a restart`);
      this.scheduleAutomaticContract(row.id, { actor: 'rollgate-migrations', causationId: null });
    }
  }

  /** Runs `work` now and again `ms` after each run ends, until the service closes. */
  private every(ms: number, work: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      void work().finally(() => {
        if (!this.closed) this.every(ms, work);
      });
    }, ms);
    this.timers.add(timer);
  }

  releaseRollbackRecorded(): void {
    // The request commits with the consumer's checkpoint just after this; the poll catches a miss.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.drainReleaseRollbacks();
    }, 50);
    this.timers.add(timer);
  }

  /**
   * Acts on every recorded release rollback; a request stays recorded (and is retried on the next
   * pass) until it was acted on, so an unreachable orchestrator or a crash never loses it.
   */
  drainReleaseRollbacks(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = (async () => {
      const requests = this.runtime.dataSource.getRepository(ReleaseRollbackRequestEntity);
      for (const request of await requests.find({ order: { occurredAt: 'ASC' } })) {
        if (this.closed) return;
        try {
          await this.onReleaseRolledBack({
            id: request.eventId,
            service: request.service,
            releaseId: request.releaseId,
            occurredAt: request.occurredAt,
          });
          await requests.delete({ eventId: request.eventId });
        } catch (error) {
          const message = (error as Error).message;
          this.logger.warn(
            `release rollback ${request.releaseId} of ${request.service} (attempt ${request.attempts + 1}, will retry): ${message}`,
          );
          await requests.update(
            { eventId: request.eventId },
            { attempts: request.attempts + 1, lastError: message },
          );
        }
      }
    })()
      .catch((error: unknown) =>
        this.logger.error(`release rollbacks: ${(error as Error).message}`),
      )
      .finally(() => (this.draining = undefined));
    return this.draining;
  }

  /**
   * A release of the service was rolled back: migrations planned before it, configured with
   * `rollbackWithRelease`, not yet contracted, whose new versions include the rolled-back one, are
   * rolled back too (the old version is what runs again, so the new shape is not needed). Throws
   * when that cannot be decided yet (the orchestrator cannot say which version the release had).
   */
  async onReleaseRolledBack(event: ReleaseRollbackJob): Promise<void> {
    if (this.closed) throw new ServiceUnavailableException('the migrations service is stopping');
    const finished = ['completed', 'rolled-back', 'contracting'];
    const rows = await this.list(event.service);
    const candidates = rows.filter(
      (row) => row.plannedAt <= event.occurredAt && !finished.includes(row.status),
    );
    if (candidates.length === 0) return;
    // Only a definite answer may skip: an orchestrator that cannot be asked throws (retried later).
    const version = await this.fleet.releaseVersion(event.releaseId);
    if (version === null) return;
    for (const row of candidates) {
      const planned = await this.load(row.id);
      if (!planned.plan?.rollbackWithRelease || !planned.plan.versions.new.includes(version))
        continue;
      this.logger.log(
        `release ${event.releaseId} of ${event.service} (${version}) rolled back: rolling back migration ${row.id}`,
      );
      await this.whenIdle(row.id);
      const state = await this.load(row.id);
      if (finished.includes(state.status) || state.phase === 'contract') continue;
      await this.rollback(row.id, { actor: 'rollgate-migrations', causationId: event.id });
    }
  }

  /** Stops a running backfill at its next batch and waits for the phase to end. */
  private async whenIdle(migrationId: string): Promise<void> {
    this.aborts.get(migrationId)?.abort();
    while (this.running.has(migrationId)) await this.running.get(migrationId);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled([...this.running.values(), this.draining]);
    await Promise.all([...this.executors.values()].map((e) => e.close()));
  }

  /** The target database URL: the service's own server and credentials, another database name. */
  targetUrl(database: string): string {
    const url = new URL(this.runtime.config.databaseUrl);
    url.pathname = `/${database}`;
    return url.toString();
  }

  private executor(database: string): PgMigrationExecutor {
    let executor = this.executors.get(database);
    if (!executor) {
      executor = new PgMigrationExecutor(this.targetUrl(database), {
        lock: {
          lockTimeoutMs: this.settings.lockTimeoutMs,
          maxAttempts: this.settings.lockMaxAttempts,
        },
        onLockRetry: (report) =>
          this.logger.warn(
            `${report.description}: lock timeout ${report.lockTimeouts}, backing off (${report.waitedMs} ms so far)`,
          ),
      });
      this.executors.set(database, executor);
    }
    return executor;
  }

  /** A plan given as an object or as JSON/YAML text, checked for shape and SQL safety; 400 otherwise. */
  parse(plan: unknown): MigrationPlan {
    const parsed = typeof plan === 'string' ? parsePlanText(plan) : parsePlan(plan);
    if (!parsed.ok) throw invalid(parsed.problems.map((p) => ({ ...p, field: `plan.${p.field}` })));
    return parsed.plan;
  }

  private get targets(): TargetPolicy {
    const config = this.runtime.config;
    return { databases: migrationDatabases(config), schemaPrefix: config.schemaPrefix };
  }

  /**
   * Checks where the plan goes (an allowed database, a schema that is neither PostgreSQL's nor
   * Rollgate's), then the plan against the target's catalog, before anything is written.
   */
  async plan(input: { database: string; plan: MigrationPlan }, origin: Origin) {
    const wrongDatabase = DATABASE_NAME.test(input.database)
      ? databaseProblem(input.database, this.targets)
      : 'must be a database name (a-z, 0-9, _)';
    const problems = [
      ...(wrongDatabase ? [{ field: 'database', message: wrongDatabase }] : []),
      ...schemaProblems(input.plan, this.targets).map((p) => ({ ...p, field: `plan.${p.field}` })),
    ];
    if (problems.length > 0) throw invalid(problems);
    await this.compile(input.database, input.plan);
    const migrationId = uuidv7();
    const events = await this.execute(migrationId, (state) =>
      decidePlan(state, { migrationId, database: input.database, plan: input.plan }, origin),
    );
    return { migrationId, events };
  }

  private async compile(database: string, plan: MigrationPlan) {
    try {
      return await this.executor(database).compile(plan);
    } catch (error) {
      if (error instanceof PlanRejectedError)
        throw invalid(error.problems.map((p) => ({ ...p, field: `plan.${p.field}` })));
      const code = (error as { code?: string }).code;
      if (code === '3D000')
        throw invalid([{ field: 'database', message: `database ${database} does not exist` }]);
      throw error;
    }
  }

  /**
   * Expand, then migrate, in the background; answers once the first phase is recorded. Also the
   * way to resume after a crash or a failure: it continues from the phase where it stopped.
   */
  async start(migrationId: string, origin: Origin) {
    const { answer } = await this.exclusive(migrationId, async (state) => {
      const phase: MigrationPhaseName =
        state.status === 'planned' ||
        (state.phase === 'expand' && ['expanding', 'failed'].includes(state.status))
          ? 'expand'
          : 'migrate';
      const events = await this.execute(migrationId, (s) =>
        decideStartPhase(resumable(s, phase), phase, origin),
      );
      return {
        answer: { migrationId, events },
        work: () => this.runForward(migrationId, phase, origin),
      };
    });
    return answer;
  }

  /**
   * Holds the migration for one phase: in this process (taken before the first await, so two
   * concurrent requests cannot both pass) and across processes by an advisory lock on the target.
   * While held, a status "expanding"/"migrating"/"contracting" means a crash, so it may resume.
   * `begin` records the phase start and returns the answer and the work that keeps holding it.
   */
  private async exclusive<T>(
    migrationId: string,
    begin: (state: Migration) => Promise<{ answer: T; work?: () => Promise<void> }>,
  ): Promise<{ answer: T; done: Promise<void> }> {
    if (this.running.has(migrationId))
      throw new ConflictException(`migration ${migrationId} is already running a phase`);
    let finished!: () => void;
    this.running.set(migrationId, new Promise<void>((resolve) => (finished = resolve)));
    let lock: PhaseLock | undefined;
    const release = async () => {
      await lock?.release().catch(() => undefined);
      this.running.delete(migrationId);
      this.aborts.delete(migrationId);
      finished();
    };
    try {
      const state = await this.load(migrationId);
      lock = await this.executor(state.database).tryPhaseLock(migrationId);
      if (!lock)
        throw new ConflictException(
          `migration ${migrationId} is running a phase in another process`,
        );
      const { answer, work } = await begin(state);
      const done = (work ? work() : Promise.resolve())
        .catch((error: unknown) =>
          this.logger.error(`migration ${migrationId}: ${(error as Error).message}`),
        )
        .finally(release);
      return { answer, done };
    } catch (error) {
      await release();
      throw error;
    }
  }

  private async runForward(
    migrationId: string,
    first: MigrationPhaseName,
    origin: Origin,
  ): Promise<void> {
    const state = await this.load(migrationId);
    const plan = state.plan!;
    const executor = this.executor(state.database);
    if (first === 'expand') {
      const ok = await this.runPhase(migrationId, 'expand', origin, async () => {
        const program = await executor.compile(plan).catch(async (error: unknown) => {
          // Compiled at plan time; after a partial expand the recorded program is the truth.
          if (error instanceof PlanRejectedError) return executor.program(plan.schema, plan.name);
          throw error;
        });
        return executor.expand(plan, program);
      });
      if (!ok || this.closed) return;
      await this.execute(migrationId, (s) => decideStartPhase(s, 'migrate', origin));
    }
    const migrated = await this.runPhase(migrationId, 'migrate', origin, async () => {
      const program = await executor.program(plan.schema, plan.name);
      const lastReport = new Map<string, number>();
      const abort = new AbortController();
      this.aborts.set(migrationId, abort);
      return executor.migrate(program, {
        ...plan.backfill,
        signal: abort.signal,
        onProgress: async (progress: BackfillProgress) => {
          const last = lastReport.get(progress.table) ?? 0;
          const finished = progress.rowsDone >= progress.rowsTotal;
          if (!finished && Date.now() - last < this.settings.progressEveryMs) return;
          lastReport.set(progress.table, finished ? Number.MAX_SAFE_INTEGER : Date.now());
          if (last === Number.MAX_SAFE_INTEGER) return;
          await this.execute(migrationId, (s) => decideBackfillProgress(s, progress, origin));
        },
      });
    });
    if (migrated && plan.contract === 'automatic' && !this.closed)
      this.scheduleAutomaticContract(migrationId, origin);
  }

  private scheduleAutomaticContract(migrationId: string, origin: Origin): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || this.running.has(migrationId)) return;
      this.complete(migrationId, origin).catch(async (error: unknown) => {
        const retry =
          error instanceof ConflictException || error instanceof ServiceUnavailableException;
        // Another replica may have contracted (or someone rolled back) meanwhile: stop asking then.
        const state = retry ? await this.load(migrationId).catch(() => null) : undefined;
        if (retry && (state === null || ['migrated', 'contracting'].includes(state!.status)))
          this.scheduleAutomaticContract(migrationId, origin);
        else if (!retry)
          this.logger.error(`automatic contract of ${migrationId}: ${(error as Error).message}`);
      });
    }, this.settings.gatePollMs);
    this.timers.add(timer);
  }

  /**
   * Contract, only when no live instance needs the old schema. Refusals are events too (once per
   * distinct reason), so the history shows why a migration waited. Also resumes a contract that a
   * crashed process left `contracting` (its recorded steps are skipped).
   */
  async complete(migrationId: string, origin: Origin) {
    const { answer, done } = await this.exclusive(migrationId, async (state) => {
      if (
        state.status !== 'migrated' &&
        state.status !== 'contracting' &&
        !(state.status === 'failed' && state.phase === 'contract')
      )
        throw new ConflictException({
          message: `migration ${migrationId} cannot contract: it is ${state.status}${state.status === 'migrating' ? ' (backfill still running)' : ''}`,
        });
      await this.assertContractAllowed(migrationId, state, origin);
      const events = await this.execute(migrationId, (s) =>
        decideStartPhase(resumable(s, 'contract'), 'contract', origin),
      );
      return {
        answer: { migrationId, events: [...events] },
        work: async () => {
          const executor = this.executor(state.database);
          await this.runPhase(migrationId, 'contract', origin, async () =>
            executor.contract(await executor.program(state.plan!.schema, state.plan!.name)),
          );
        },
      };
    });
    await done;
    return answer;
  }

  /** Throws 409 (recording the refusal) or 503 unless no live instance needs the old schema. */
  private async assertContractAllowed(
    migrationId: string,
    state: Migration,
    origin: Origin,
  ): Promise<void> {
    let live;
    try {
      live = await this.fleet.liveInstances(state.service);
    } catch (error) {
      if (error instanceof FleetUnavailableError)
        throw new ServiceUnavailableException(
          `contract refused: ${error.message}; cannot prove no old version is live`,
        );
      throw error;
    }
    // The database's own view: sessions tagged <service>@<version> count as live instances too.
    const sessions = await this.executor(state.database).taggedSessions(state.service);
    const verdict = contractGate(state.plan!, [
      ...live,
      ...sessions.map((session) => ({ id: `db-session-${session.pid}`, version: session.version })),
    ]);
    if (!verdict.allowed) {
      const reason = `live instances of ${state.service} still need the old schema: ${verdict.blocking
        .map((b) => `${b.id} (${b.reason})`)
        .join(', ')}`;
      await this.execute(migrationId, (s) =>
        decideContractRefused(s, { reason, blocking: verdict.blocking }, origin),
      );
      throw new ConflictException({
        message: `contract refused: ${reason}`,
        details: verdict.blocking,
      });
    }
  }

  /** Before contract only: removes what expand added. Waits for a running phase to stop first. */
  async rollback(migrationId: string, origin: Origin) {
    // A phase that has just recorded its end may still hold the lock for a moment.
    await this.whenIdle(migrationId);
    const { answer, done } = await this.exclusive(migrationId, async (state) => {
      const events = await this.execute(migrationId, (s) =>
        decideStartPhase(s, 'rollback', origin),
      );
      return {
        answer: { migrationId, events },
        work: async () => {
          const executor = this.executor(state.database);
          await this.runPhase(migrationId, 'rollback', origin, async () => {
            const program = await executor
              .program(state.plan!.schema, state.plan!.name)
              .catch(() => undefined);
            // Never expanded on the target: nothing to undo.
            return program
              ? executor.rollback(program)
              : { steps: [], statements: 0, lockRetries: 0 };
          });
        },
      };
    });
    await done;
    return answer;
  }

  async lint(input: {
    plan?: unknown;
    sql?: string;
    liveVersions?: string[];
    reads?: Record<string, string[]>;
  }) {
    const context = { liveVersions: input.liveVersions ?? [], reads: input.reads ?? {} };
    const findings: LintFinding[] = [];
    let problems: PlanProblem[] = [];
    if (input.plan !== undefined) {
      const parsed =
        typeof input.plan === 'string' ? parsePlanText(input.plan) : parsePlan(input.plan);
      if (parsed.ok) findings.push(...lintPlan(parsed.plan, context));
      else problems = parsed.problems.map((p) => ({ ...p, field: `plan.${p.field}` }));
    }
    if (input.sql !== undefined) findings.push(...lintSql(input.sql, context));
    if (input.plan === undefined && input.sql === undefined)
      throw invalid([{ field: 'plan', message: 'give a plan or sql to lint' }]);
    return {
      ok: problems.length === 0 && !findings.some((f) => f.severity === 'error'),
      problems,
      findings,
    };
  }

  /** Runs one phase, recording completion or failure; false when it failed. */
  private async runPhase(
    migrationId: string,
    phase: MigrationPhaseName,
    origin: Origin,
    run: () => Promise<{ statements: number; lockRetries: number }>,
  ): Promise<boolean> {
    try {
      const report = await run();
      await this.execute(migrationId, (s) =>
        decidePhaseCompleted(
          s,
          phase,
          { statements: report.statements, lockRetries: report.lockRetries },
          origin,
        ),
      );
      return true;
    } catch (error) {
      const message =
        error instanceof LockTimeoutExhaustedError
          ? error.message
          : `${(error as Error).message}${(error as { report?: { description: string } }).report ? ` (in ${(error as { report: { description: string } }).report.description})` : ''}`;
      this.logger.warn(`migration ${migrationId} ${phase} failed: ${message}`);
      await this.execute(migrationId, (s) => decideFailed(s, phase, message, origin)).catch(
        () => undefined,
      );
      return false;
    }
  }

  private async execute(migrationId: string, decide: (state: Migration) => Decision) {
    const events = await this.eventStore.execute(
      migrationAggregate,
      migrationStreamId(migrationId),
      decide,
    );
    if (events.length > 0) this.runtime.relay.kick();
    return events;
  }

  /** The write-side state (always current, unlike the projection). */
  async load(migrationId: string): Promise<Migration> {
    const state = fold(
      migrationAggregate,
      await this.eventStore.load(migrationStreamId(migrationId)),
    );
    if (state.status === 'none') throw new NotFoundException(`migration ${migrationId} not found`);
    return state;
  }

  /** Status for people: the fold plus live backfill progress read from the target database. */
  async status(migrationId: string) {
    const state = await this.load(migrationId);
    let backfill = Object.entries(state.backfill).map(([table, p]) => ({ table, ...p }));
    if (state.status === 'migrating') {
      const executor = this.executor(state.database);
      const program = await executor
        .program(state.plan!.schema, state.plan!.name)
        .catch(() => undefined);
      if (program) backfill = await executor.backfillState(program);
    }
    return {
      id: state.migrationId,
      service: state.service,
      database: state.database,
      name: state.plan?.name ?? null,
      status: state.status,
      phase: state.phase,
      versionSchema: state.plan ? versionSchemaName(state.plan.schema, state.plan.name) : null,
      versions: state.plan?.versions ?? null,
      contract: state.plan?.contract ?? null,
      backfill,
      lockRetries: state.lockRetries,
      lastError: state.lastError,
      contractRefusal: state.contractRefusal,
      updatedAt: state.updatedAt,
    };
  }

  list(service: string | undefined): Promise<MigrationEntity[]> {
    return this.runtime.dataSource.manager.find(MigrationEntity, {
      where: service ? { service } : {},
      order: { plannedAt: 'DESC' },
      take: 200,
    });
  }
}

/**
 * 400 shaped like every validation error (`details: [{ field, problem }]`); `message` repeats the
 * problem for clients that read plan problems by that name (the CLI's `migrate plan`).
 */
function invalid(problems: PlanProblem[]): BadRequestException {
  const details: FieldProblem[] = problems.map((p) => ({ field: p.field, problem: p.message }));
  return new BadRequestException({ message: 'validation failed', details });
}

/**
 * A phase left running by a process that died may start again: treat it as failed there. Only
 * called while holding the migration's lock, so nobody else is running it.
 */
function resumable(state: Migration, phase: MigrationPhaseName): Migration {
  const runningStatus: Partial<Record<MigrationPhaseName, string>> = {
    expand: 'expanding',
    migrate: 'migrating',
    contract: 'contracting',
  };
  return state.status === runningStatus[phase] ? { ...state, status: 'failed', phase } : state;
}
