import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_RUNTIME, type ServicePersistence, type ServiceRuntime } from '@rollgate/platform';
import { FlagProjectEntity, FlagSummaryEntity } from './flag.entity';
import { FlagsController } from './flags.controller';
import { FlagsProjection } from './flags.projection';
import { FlagsService } from './flags.service';
import { FLEET_VIEW, HttpFleetView, type FleetView } from './fleet-view';
import {
  DEFAULT_RAMP_TICK_MS,
  GuardedRolloutService,
  RAMP_TICK_MS,
} from './guarded-rollout.service';
import { FlagsReadModel1764000000600 } from './migrations/1764000000600-flags-read-model';
import { FlagOutcomes1764000000610 } from './migrations/1764000000610-flag-outcomes';
import { RulesetFeed } from './ruleset-feed';

export const FLAGS_READ_MODEL: ServicePersistence = {
  entities: [FlagProjectEntity, FlagSummaryEntity],
  migrations: [FlagsReadModel1764000000600, FlagOutcomes1764000000610],
  readModels: [FlagsProjection],
};

export interface FlagsModuleOptions {
  /** Where the enablement guard asks about the fleet; the orchestrator over HTTP unless set. */
  fleetView?: FleetView;
  /** How often running guarded rollouts are judged; 5 s unless set. */
  rampTickMs?: number;
}

@Module({})
export class FlagsModule {
  static forRoot(options: FlagsModuleOptions = {}): DynamicModule {
    return {
      module: FlagsModule,
      controllers: [FlagsController, FlagsProjection],
      providers: [
        FlagsService,
        RulesetFeed,
        GuardedRolloutService,
        { provide: RAMP_TICK_MS, useValue: options.rampTickMs ?? DEFAULT_RAMP_TICK_MS },
        options.fleetView
          ? { provide: FLEET_VIEW, useValue: options.fleetView }
          : {
              provide: FLEET_VIEW,
              inject: [SERVICE_RUNTIME],
              useFactory: (runtime: ServiceRuntime) =>
                new HttpFleetView(runtime.config.serviceUrls.orchestrator, runtime.config.token),
            },
      ],
    };
  }
}
