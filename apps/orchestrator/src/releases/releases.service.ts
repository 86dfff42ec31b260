import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { ApiGatePolicy, ArtifactRef, ReleasePlan, ReleaseStrategy } from '@rollgate/contracts';
import { fold, type Decision } from '@rollgate/event-sourcing';
import { EventStore } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import {
  decideAbort,
  decidePause,
  decidePromote,
  decideRequestRelease,
  decideResume,
  lowTrafficProblems,
  planProblems,
  releaseSettings,
  serviceReleases,
  serviceStreamId,
  versionLabel,
  withPlanDefaults,
  type ApiGateCheck,
  type Origin,
  type ReleaseOverrides,
  type ServiceReleasesState,
} from '@rollgate/releases';
import { ApiDocuments, type ApiDocument } from '../api-gate/api-documents';
import { ApiGate } from '../api-gate/api-gate';
import { PolicyService } from '../policy/policy.service';
import { FLAG_DEBT_CHECK, type FlagDebtCheck } from './flag-debt-check';
import { ReleaseEntity } from './release.entity';

export interface ReleaseRequest extends ReleaseOverrides {
  service: string;
  artifact: ArtifactRef;
  version?: string;
  /** Left out: the service policy's, else canary. */
  strategy?: ReleaseStrategy;
  plan?: Partial<ReleasePlan>;
  first?: boolean;
  actor: string;
  /** API documents the build declares, as sent: stored by digest, named on the artifact. */
  documents?: { provides?: unknown; consumes?: unknown };
  apiPolicy?: ApiGatePolicy;
  /** force: go on despite breaking API findings, for this reason. */
  forceReason?: string;
}

/** Thin edge between HTTP and the pure release decisions: load, decide, append, publish. */
@Injectable()
export class ReleasesService {
  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(FLAG_DEBT_CHECK) private readonly flagDebt: FlagDebtCheck,
    private readonly documents: ApiDocuments,
    private readonly gate: ApiGate,
    private readonly policies: PolicyService,
  ) {}

  /** `authorization`: the caller's, forwarded when another service is asked on their behalf. */
  async request(input: ReleaseRequest, authorization?: string) {
    // What the request leaves out comes from the service policy in force; the release records it.
    const settings = releaseSettings(await this.policies.inForce(input.service), input);
    const problems = [
      ...planProblems(settings.strategy, withPlanDefaults(settings.plan)),
      ...lowTrafficProblems(input.lowTraffic),
    ];
    // The policy's config was checked when it was applied; a request's own choice is checked here.
    if (input.canaryConfig !== undefined) {
      const problem = await this.policies.canaryConfigProblem(
        input.canaryConfig,
        'canaryConfig',
        authorization,
      );
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) {
      throw new BadRequestException({ message: 'validation failed', details: problems });
    }
    // Flag debt: an expired flag the new build still reads blocks it (where its project says so),
    // unless the service's policy (or the request) turns the rule off.
    const blocking = settings.expiredFlagsBlock
      ? await this.flagDebt.blockingFlags(input.service, input.artifact.flags ?? [])
      : [];
    if (blocking.length > 0) {
      const names = blocking.map((f) => `${f.project}/${f.key} (expired ${f.expiresAt})`);
      throw new ConflictException({
        message: `the build reads expired flags: ${names.join(', ')}; extend or retire them first`,
        details: blocking,
      });
    }
    const { artifact, apiGate } = await this.checkApi(input);
    const releaseId = uuidv7();
    const events = await this.execute(input.service, (state) =>
      decideRequestRelease(state, {
        ...input,
        ...settings,
        artifact,
        ...(apiGate ? { apiGate } : {}),
        releaseId,
        causationId: null,
      }),
    );
    return { releaseId, events };
  }

  /**
   * Parses and stores the build's API documents, names them on the artifact by digest, and asks
   * the gate about the live fleet. Nothing declared, nothing checked (and no fleet call).
   */
  private async checkApi(
    input: ReleaseRequest,
  ): Promise<{ artifact: ArtifactRef; apiGate?: ApiGateCheck }> {
    const sent = input.documents ?? {};
    const provides =
      sent.provides === undefined
        ? undefined
        : await this.documents.parseOpenApi(sent.provides, 'artifact.api.provides');
    const consumes =
      sent.consumes === undefined
        ? undefined
        : this.documents.parseConsumerContract(sent.consumes, 'artifact.api.consumes');
    if (!provides && !consumes) return { artifact: input.artifact };
    const answer = await this.gate.checkRelease(
      input.service,
      versionLabel(input.artifact, input.version),
      { provides: provides?.provides ?? null, consumes: consumes?.consumes ?? null },
    );
    for (const document of [provides, consumes].filter((d): d is ApiDocument => d !== undefined))
      await this.documents.store(input.service, document);
    return {
      artifact: {
        ...input.artifact,
        api: {
          ...(provides ? { provides: provides.digest } : {}),
          ...(consumes ? { consumes: consumes.digest } : {}),
        },
      },
      apiGate: {
        ...answer,
        policy: input.apiPolicy ?? this.runtime.config.apiCompatPolicy,
        ...(input.forceReason !== undefined ? { forceReason: input.forceReason } : {}),
      },
    };
  }

  pause(releaseId: string, reason: string, origin: Origin) {
    return this.onRelease(releaseId, (state) => decidePause(state, releaseId, reason, origin));
  }

  resume(releaseId: string, origin: Origin) {
    return this.onRelease(releaseId, (state) => decideResume(state, releaseId, origin));
  }

  promote(releaseId: string, full: boolean, origin: Origin) {
    return this.onRelease(releaseId, (state) => decidePromote(state, releaseId, full, origin));
  }

  /**
   * Abort, checking the rollback too: going back to the stable build must not break a consumer
   * that already reads what only the new build offers (refused by policy unless forced).
   */
  async abort(releaseId: string, reason: string, origin: Origin, force = false) {
    const { service } = await this.get(releaseId);
    const state = fold(serviceReleases, await this.eventStore.load(serviceStreamId(service)));
    const release = state.active?.releaseId === releaseId ? state.active : null;
    let check: ApiGateCheck | undefined;
    if (release?.artifact.api?.provides && release.step >= 0 && state.stable) {
      const answer = await this.gate.checkRollback(service, {
        version: state.stable.version,
        api: await this.documents.provided(state.stable.artifact.api?.provides),
      });
      check = {
        ...answer,
        policy: release.apiGate?.policy ?? this.runtime.config.apiCompatPolicy,
        ...(force ? { forceReason: reason } : {}),
      };
    }
    return this.execute(service, (s) => decideAbort(s, releaseId, reason, origin, check));
  }

  private async onRelease(releaseId: string, decide: (state: ServiceReleasesState) => Decision) {
    const release = await this.get(releaseId);
    return this.execute(release.service, decide);
  }

  private async execute(service: string, decide: (state: ServiceReleasesState) => Decision) {
    return this.eventStore.execute(serviceReleases, serviceStreamId(service), decide);
  }

  async get(releaseId: string): Promise<ReleaseEntity> {
    const release = await this.runtime.dataSource.manager.findOneBy(ReleaseEntity, {
      id: releaseId,
    });
    if (!release) throw new NotFoundException(`release ${releaseId} not found`);
    return release;
  }

  list(service: string | undefined): Promise<ReleaseEntity[]> {
    return this.runtime.dataSource.manager.find(ReleaseEntity, {
      where: service ? { service } : {},
      order: { requestedAt: 'DESC' },
      take: 200,
    });
  }
}
