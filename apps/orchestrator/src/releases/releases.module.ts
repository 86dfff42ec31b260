import { Module } from '@nestjs/common';
import { ApiGateModule } from '../api-gate/api-gate.module';
import { PolicyModule } from '../policy/policy.module';
import { SERVICE_RUNTIME, type ServicePersistence, type ServiceRuntime } from '@rollgate/platform';
import { FLAG_DEBT_CHECK, HttpFlagDebtCheck } from './flag-debt-check';
import { ReleasesReadModel1764000000100 } from './migrations/1764000000100-releases-read-model';
import { ReleaseEntity } from './release.entity';
import { ReleaseProjection } from './release.projection';
import { ReleasesController } from './releases.controller';
import { ReleasesService } from './releases.service';

export const RELEASES_PERSISTENCE: ServicePersistence = {
  entities: [ReleaseEntity],
  migrations: [ReleasesReadModel1764000000100],
  readModels: [ReleaseProjection],
};

@Module({
  imports: [ApiGateModule, PolicyModule],
  controllers: [ReleasesController, ReleaseProjection],
  providers: [
    ReleasesService,
    {
      provide: FLAG_DEBT_CHECK,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) =>
        new HttpFlagDebtCheck(runtime.config.serviceUrls.flags, runtime.config.token),
    },
  ],
})
export class ReleasesModule {}
