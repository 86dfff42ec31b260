import { Module } from '@nestjs/common';
import { SERVICE_RUNTIME, type ServicePersistence, type ServiceRuntime } from '@rollgate/platform';
import { FLEET_VIEW, HttpFleetView } from './fleet-view';
import { MigrationEntity } from './migration.entity';
import { MigrationProjection } from './migration.projection';
import { MigrationsReadModel1764000000700 } from './migrations/1764000000700-migrations-read-model';
import { ReleaseRollbackRequests1764000000701 } from './migrations/1764000000701-release-rollback-requests';
import { MigrationsController } from './migrations.controller';
import { ReleaseRollbackRequestEntity } from './release-rollback-request.entity';
import { RELEASE_ROLLBACK_HANDLER, ReleaseRollbackListener } from './release-rollback.listener';
import {
  DEFAULT_MIGRATIONS_SETTINGS,
  MIGRATIONS_SETTINGS,
  MigrationsService,
} from './migrations.service';

export const MIGRATIONS_READ_MODEL: ServicePersistence = {
  entities: [MigrationEntity, ReleaseRollbackRequestEntity],
  migrations: [MigrationsReadModel1764000000700, ReleaseRollbackRequests1764000000701],
  readModels: [MigrationProjection],
};

@Module({
  controllers: [MigrationsController, MigrationProjection, ReleaseRollbackListener],
  providers: [
    MigrationsService,
    { provide: RELEASE_ROLLBACK_HANDLER, useExisting: MigrationsService },
    {
      provide: FLEET_VIEW,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) =>
        new HttpFleetView(runtime.config.serviceUrls.orchestrator, runtime.config.token),
    },
    { provide: MIGRATIONS_SETTINGS, useValue: DEFAULT_MIGRATIONS_SETTINGS },
  ],
})
export class MigrationsModule {}
