import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';

export const ANALYSIS_SERVICE: ServiceDescriptor = {
  name: 'analysis',
  defaultPort: DEFAULT_PORTS.analysis,
  title: 'Rollgate analysis',
  description:
    'Owns AnalysisRun: golden signals of canary versus baseline, statistical judges and verdicts. Pulls metrics from a source (embedded data-plane stats, Prometheus) and emits per-interval scores and a verdict.',
};

/** Tables, migrations and read models of this service (none yet). */
export const ANALYSIS_PERSISTENCE: ServicePersistence = {
  entities: [],
  migrations: [],
  projections: [],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class AnalysisAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: AnalysisAppModule,
      imports: [...serviceAppImports(ANALYSIS_SERVICE, options)],
    };
  }
}
