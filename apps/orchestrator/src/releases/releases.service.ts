import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { ArtifactRef, ReleaseStrategy } from '@rollgate/contracts';
import { EventStore } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import {
  decideAbortRelease,
  decideRequestRelease,
  serviceReleases,
  serviceStreamId,
} from '@rollgate/releases';
import { ReleaseEntity } from './release.entity';

/** Thin edge between HTTP and the pure release decisions: load, decide, append, publish. */
@Injectable()
export class ReleasesService {
  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  async request(input: {
    service: string;
    artifact: ArtifactRef;
    strategy: ReleaseStrategy;
    actor: string;
  }) {
    const releaseId = uuidv7();
    const events = await this.eventStore.execute(
      serviceReleases,
      serviceStreamId(input.service),
      (state) => decideRequestRelease(state, { ...input, releaseId, causationId: null }),
    );
    this.runtime.relay.kick();
    return { releaseId, events };
  }

  async abort(releaseId: string, reason: string, actor: string) {
    const release = await this.get(releaseId);
    const events = await this.eventStore.execute(
      serviceReleases,
      serviceStreamId(release.service),
      (state) =>
        decideAbortRelease(state, {
          releaseId,
          service: release.service,
          reason,
          actor,
          causationId: null,
        }),
    );
    this.runtime.relay.kick();
    return { releaseId, events, service: release.service };
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
