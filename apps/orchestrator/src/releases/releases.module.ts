import { Module } from '@nestjs/common';
import type { ServicePersistence } from '@rollgate/platform';
import { ReleasesReadModel1764000000100 } from './migrations/1764000000100-releases-read-model';
import { ReleaseEntity } from './release.entity';
import { ReleaseProjection } from './release.projection';
import { ReleasesController } from './releases.controller';
import { ReleasesService } from './releases.service';

export const RELEASES_PERSISTENCE: ServicePersistence = {
  entities: [ReleaseEntity],
  migrations: [ReleasesReadModel1764000000100],
  projections: [new ReleaseProjection()],
};

@Module({ controllers: [ReleasesController], providers: [ReleasesService] })
export class ReleasesModule {}
