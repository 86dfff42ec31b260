import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { CanaryConfigVersionEntity } from './canary-configs/canary-config-version.entity';
import { CanaryConfigVersions1764000000410 } from './canary-configs/migrations/1764000000410-canary-config-versions';
import { AnalysisRunEntity } from './runs/analysis-run.entity';
import { AnalysisRuns1764000000400 } from './runs/migrations/1764000000400-analysis-runs';
import { RunsModule } from './runs/runs.module';

export const ANALYSIS_SERVICE: ServiceDescriptor = {
  name: 'analysis',
  defaultPort: DEFAULT_PORTS.analysis,
  title: 'Rollgate analysis',
  description:
    'Owns AnalysisRun: golden signals of canary versus baseline, statistical judges and verdicts. Pulls metrics from a source (embedded data-plane stats, Prometheus) and emits per-interval scores and a verdict.',
};

/** Tables and migrations of this service; its one consumer needs the metric source (RunsModule). */
export const ANALYSIS_PERSISTENCE: ServicePersistence = {
  entities: [AnalysisRunEntity, CanaryConfigVersionEntity],
  migrations: [AnalysisRuns1764000000400, CanaryConfigVersions1764000000410],
  readModels: [],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class AnalysisAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: AnalysisAppModule,
      imports: [...serviceAppImports(ANALYSIS_SERVICE, options), RunsModule],
    };
  }
}
