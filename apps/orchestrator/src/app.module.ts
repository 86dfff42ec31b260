import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { RELEASES_PERSISTENCE, ReleasesModule } from './releases/releases.module';

export const ORCHESTRATOR_SERVICE: ServiceDescriptor = {
  name: 'orchestrator',
  defaultPort: DEFAULT_PORTS.orchestrator,
  title: 'Rollgate orchestrator',
  description:
    'Owns the Release aggregate: strategy (rolling, blue-green, canary), steps, promote, pause, abort and rollback, plus the fleet view and the version-drift guard. Emits release commands and events and reacts to routing, analysis and fleet events.',
};

/** Tables, migrations and read models of this service. */
export const ORCHESTRATOR_PERSISTENCE = RELEASES_PERSISTENCE;

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class OrchestratorAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: OrchestratorAppModule,
      imports: [...serviceAppImports(ORCHESTRATOR_SERVICE, options), ReleasesModule],
    };
  }
}
