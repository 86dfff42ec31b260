import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { AuditModule } from './audit/audit.module';
import { POLICY_PERSISTENCE } from './policy/policy.module';
import { RELEASES_PERSISTENCE, ReleasesModule } from './releases/releases.module';
import { ReleaseSignals1764000000300 } from './rollout/migrations/1764000000300-release-signals';
import { ShareRaises1764000000310 } from './rollout/migrations/1764000000310-share-raises';
import { FleetModule, RolloutModule } from './rollout/rollout.module';
import {
  AnalysisVerdictEntity,
  RouteAnswerEntity,
  ShareRaiseRequestEntity,
} from './rollout/signals.entity';
import { ReleaseSignalsProjection } from './rollout/signals.projection';
import { WEBHOOKS_MIGRATIONS, WebhooksModule } from './webhooks/webhooks.module';

export const ORCHESTRATOR_SERVICE: ServiceDescriptor = {
  name: 'orchestrator',
  defaultPort: DEFAULT_PORTS.orchestrator,
  title: 'Rollgate orchestrator',
  description:
    'Owns the Release aggregate: strategy (rolling, blue-green, canary), steps, promote, pause, abort and rollback, plus the fleet view and the version-drift guard. Emits release commands and events and reacts to routing, analysis and fleet events.',
};

/** Tables, migrations and read models of this service. */
export const ORCHESTRATOR_PERSISTENCE: ServicePersistence = {
  entities: [
    ...RELEASES_PERSISTENCE.entities,
    ...POLICY_PERSISTENCE.entities,
    RouteAnswerEntity,
    AnalysisVerdictEntity,
    ShareRaiseRequestEntity,
  ],
  migrations: [
    ...RELEASES_PERSISTENCE.migrations,
    ReleaseSignals1764000000300,
    ShareRaises1764000000310,
    ...WEBHOOKS_MIGRATIONS,
    ...POLICY_PERSISTENCE.migrations,
  ],
  readModels: [...RELEASES_PERSISTENCE.readModels, ReleaseSignalsProjection],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class OrchestratorAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: OrchestratorAppModule,
      controllers: [ReleaseSignalsProjection],
      imports: [
        ...serviceAppImports(ORCHESTRATOR_SERVICE, options),
        ReleasesModule,
        AuditModule,
        FleetModule,
        WebhooksModule,
        // The reconcile loop drives releases; off, the orchestrator only records them.
        ...(options.runtime.config.reconciler === 'on' ? [RolloutModule] : []),
      ],
    };
  }
}
