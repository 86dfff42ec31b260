import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { AnalysisRequestHandler, AnalysisRunner, METRIC_SOURCE } from './analysis-runner';
import { RouterStatsSource, type MetricSource } from './metric-source';

/** Analysis runs: recorded from the log, scored on a timer against the router's statistics. */
@Module({
  providers: [
    {
      provide: METRIC_SOURCE,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) =>
        new RouterStatsSource(runtime.config.serviceUrls.router),
    },
    AnalysisRunner,
  ],
})
export class RunsModule implements OnModuleInit {
  constructor(
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(METRIC_SOURCE) private readonly source: MetricSource,
  ) {}

  onModuleInit(): void {
    this.runtime.addProjection(new AnalysisRequestHandler(this.source));
  }
}
