import type { DynamicModule } from '@nestjs/common';
import type {
  RollgateAppOptions,
  ServiceDescriptor,
  ServiceName,
  ServicePersistence,
} from '@rollgate/platform';
import { AnalysisAppModule, ANALYSIS_PERSISTENCE, ANALYSIS_SERVICE } from '@rollgate/app-analysis';
import { FlagsAppModule, FLAGS_PERSISTENCE, FLAGS_SERVICE } from '@rollgate/app-flags';
import {
  MigrationsAppModule,
  MIGRATIONS_PERSISTENCE,
  MIGRATIONS_SERVICE,
} from '@rollgate/app-migrations';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '@rollgate/app-orchestrator';
import { RouterAppModule, ROUTER_PERSISTENCE, ROUTER_SERVICE } from '@rollgate/app-router';

export interface HostedService {
  descriptor: ServiceDescriptor;
  persistence: ServicePersistence;
  module: (options: RollgateAppOptions) => DynamicModule;
}

/** The five services, in start order: consumers of an event start after its producer. */
export const HOSTED_SERVICES: Record<ServiceName, HostedService> = {
  orchestrator: {
    descriptor: ORCHESTRATOR_SERVICE,
    persistence: ORCHESTRATOR_PERSISTENCE,
    module: (o) => OrchestratorAppModule.forRoot(o),
  },
  router: {
    descriptor: ROUTER_SERVICE,
    persistence: ROUTER_PERSISTENCE,
    module: (o) => RouterAppModule.forRoot(o),
  },
  analysis: {
    descriptor: ANALYSIS_SERVICE,
    persistence: ANALYSIS_PERSISTENCE,
    module: (o) => AnalysisAppModule.forRoot(o),
  },
  flags: {
    descriptor: FLAGS_SERVICE,
    persistence: FLAGS_PERSISTENCE,
    module: (o) => FlagsAppModule.forRoot(o),
  },
  migrations: {
    descriptor: MIGRATIONS_SERVICE,
    persistence: MIGRATIONS_PERSISTENCE,
    module: (o) => MigrationsAppModule.forRoot(o),
  },
};
