import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MoreThan } from 'typeorm';
import { eventCatalog, TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { Subscription } from '@rollgate/event-log';
import { buildRuleset, type RulesetDefinition, type Ruleset } from '@rollgate/flags-domain';
import {
  evolveProjectFlags,
  initialProjectState,
  projectStreamId,
  rulesetOf,
  type ProjectFlagsState,
} from '@rollgate/flags-domain/project';
import { StoredEventEntity } from '@rollgate/persistence';
import { HealthChecks, SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';

export interface ProjectSnapshot {
  readonly state: ProjectFlagsState;
  readonly definition: RulesetDefinition;
  /** The same ruleset compiled, for server-side evaluation. */
  readonly ruleset: Ruleset;
  /** `definition` as one line of JSON: what /flags/ruleset and the stream send. */
  readonly json: string;
}

type Listener = (snapshot: ProjectSnapshot) => void;

/**
 * The SDK-facing view of each project: the fold of the project's stream in the event store,
 * caught up incrementally. Reading the write side (not the projection) means a kill is served
 * the moment it commits, and a command's caller reads its own write.
 *
 * Changes reach listeners (the SSE streams) two ways: this process's commands call `changed`
 * right after committing, and a subscription of its own to rollgate.flags (a consumer group per
 * process, starting at the end) catches commits made by other replicas.
 */
@Injectable()
export class RulesetFeed implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('flags-ruleset-feed');
  private readonly snapshots = new Map<string, ProjectSnapshot>();
  private readonly refreshing = new Map<string, Promise<ProjectSnapshot>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscription: Subscription | undefined;
  private readonly openStreams = new Set<() => void>();

  constructor(
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    private readonly checks: HealthChecks,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const log = this.runtime.log;
    const ends = await log.endOffsets(TOPICS.flags.name);
    this.subscription = await log.subscribe({
      groupId: `rollgate-flags-feed-${randomUUID()}`,
      topics: [TOPICS.flags.name],
      // Only what is new: the event store already holds everything before.
      positionOf: async (_topic, partition) => ends[partition] ?? 0,
      handle: async (batch) => {
        const projects = new Set(batch.map((e) => e.event.key));
        for (const project of projects) await this.changed(project);
      },
      onCrash: (error) => this.logger.error(`ruleset feed stopped: ${error.message}`),
    });
    // Without it, streams on this replica miss changes made on the others: /health says so.
    this.checks.register('ruleset-feed', async () => {
      const state = this.subscription?.state() ?? 'stopped';
      return {
        up: state === 'running' || state === 'starting',
        ...(state === 'starting' ? { condition: 'starting' as const } : {}),
        detail: { consumer: state },
      };
    });
  }

  /** Before the runtime closes the log under it; open streams end so shutdown need not wait on them. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const end of [...this.openStreams]) end();
    this.openStreams.clear();
    await this.subscription?.stop();
  }

  /**
   * Registers a way to end one open stream when the service stops: its SDK reconnects (to
   * another replica) instead of holding this process open. Returns the unregister function.
   */
  endOnShutdown(end: () => void): () => void {
    this.openStreams.add(end);
    return () => this.openStreams.delete(end);
  }

  /** The project as of now; undefined when the project does not exist. */
  async current(project: string): Promise<ProjectSnapshot | undefined> {
    const snapshot = await this.refresh(project);
    return snapshot.state.exists ? snapshot : undefined;
  }

  /** Catches the project up and tells its listeners when its version moved. */
  async changed(project: string): Promise<void> {
    const before = this.snapshots.get(project)?.state.version ?? -1;
    const snapshot = await this.refresh(project);
    if (snapshot.state.version === before) return;
    for (const listener of this.listeners.get(project) ?? []) {
      try {
        listener(snapshot);
      } catch (error) {
        this.logger.warn(`a ruleset listener failed: ${String(error)}`);
      }
    }
  }

  listen(project: string, listener: Listener): () => void {
    const set = this.listeners.get(project) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(project, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(project);
    };
  }

  /** One catch-up per project at a time; a caller arriving during one waits for the next. */
  private refresh(project: string): Promise<ProjectSnapshot> {
    const running = this.refreshing.get(project) ?? Promise.resolve(undefined);
    const next = running
      .catch(() => undefined)
      .then(() => this.catchUp(project))
      .finally(() => {
        if (this.refreshing.get(project) === next) this.refreshing.delete(project);
      });
    this.refreshing.set(project, next);
    return next;
  }

  private async catchUp(project: string): Promise<ProjectSnapshot> {
    const known = this.snapshots.get(project);
    const from = known?.state.version ?? 0;
    const rows = await this.runtime.dataSource.manager.find(StoredEventEntity, {
      where: { streamId: projectStreamId(project), sequence: MoreThan(from) },
      order: { sequence: 'ASC' },
    });
    if (known && rows.length === 0) return known;
    let state = known?.state ?? initialProjectState(project);
    for (const row of rows) {
      const event = eventCatalog.upcast(JSON.parse(row.envelope) as EventEnvelope);
      state = evolveProjectFlags(state, event);
    }
    const snapshot = snapshotOf(state);
    this.snapshots.set(project, snapshot);
    return snapshot;
  }
}

function snapshotOf(state: ProjectFlagsState): ProjectSnapshot {
  const definition = rulesetOf(state);
  const built = buildRuleset(definition);
  // The decisions validate every change against the whole project, so this cannot fail.
  if (!built.ok) {
    throw new Error(
      `ruleset ${state.project}@${state.version} is invalid: ${JSON.stringify(built.errors)}`,
    );
  }
  return { state, definition, ruleset: built.ruleset, json: JSON.stringify(definition) };
}
