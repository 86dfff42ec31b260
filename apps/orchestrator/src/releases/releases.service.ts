import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { ArtifactRef, ReleasePlan, ReleaseStrategy } from '@rollgate/contracts';
import type { Decision } from '@rollgate/event-sourcing';
import { EventStore } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import {
  decideAbort,
  decidePause,
  decidePromote,
  decideRequestRelease,
  decideResume,
  planProblems,
  serviceReleases,
  serviceStreamId,
  withPlanDefaults,
  type Origin,
  type ServiceReleasesState,
} from '@rollgate/releases';
import { FLAG_DEBT_CHECK, type FlagDebtCheck } from './flag-debt-check';
import { ReleaseEntity } from './release.entity';

export interface ReleaseRequest {
  service: string;
  artifact: ArtifactRef;
  version?: string;
  strategy: ReleaseStrategy;
  plan?: Partial<ReleasePlan>;
  first?: boolean;
  actor: string;
}

/** Thin edge between HTTP and the pure release decisions: load, decide, append, publish. */
@Injectable()
export class ReleasesService {
  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(FLAG_DEBT_CHECK) private readonly flagDebt: FlagDebtCheck,
  ) {}

  async request(input: ReleaseRequest) {
    const problems = planProblems(input.strategy, withPlanDefaults(input.plan));
    if (problems.length > 0) {
      throw new BadRequestException({ message: 'validation failed', details: problems });
    }
    // Flag debt: an expired flag the new build still reads blocks it (where its project says so).
    const blocking = await this.flagDebt.blockingFlags(input.service, input.artifact.flags ?? []);
    if (blocking.length > 0) {
      const names = blocking.map((f) => `${f.project}/${f.key} (expired ${f.expiresAt})`);
      throw new ConflictException({
        message: `the build reads expired flags: ${names.join(', ')}; extend or retire them first`,
        details: blocking,
      });
    }
    const releaseId = uuidv7();
    const events = await this.execute(input.service, (state) =>
      decideRequestRelease(state, { ...input, releaseId, causationId: null }),
    );
    return { releaseId, events };
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

  abort(releaseId: string, reason: string, origin: Origin) {
    return this.onRelease(releaseId, (state) => decideAbort(state, releaseId, reason, origin));
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
