import { Module } from '@nestjs/common';
import { CanaryConfigsModule } from '../canary-configs/canary-configs.module';
import { SERVICE_RUNTIME, type RollgateConfig, type ServiceRuntime } from '@rollgate/platform';
import {
  ANALYSIS_POLICY,
  AnalysisRequestHandler,
  AnalysisRunner,
  METRIC_SOURCE,
} from './analysis-runner';
import { OrchestratorFleetClock, RouterStatsSource, type MetricSource } from './metric-source';
import { PrometheusSource } from './prometheus-source';
import type { AnalysisPolicy } from './scoring';

/** The configured metric source: the router's data-plane counters, or Prometheus. */
export function metricSourceFor(config: RollgateConfig): MetricSource {
  return config.analysis.metricSource === 'prometheus'
    ? new PrometheusSource(config.analysis.prometheusUrl!)
    : new RouterStatsSource(
        config.serviceUrls.router,
        new OrchestratorFleetClock(config.serviceUrls.orchestrator),
      );
}

export function analysisPolicyFor(config: RollgateConfig): AnalysisPolicy {
  const analysis = config.analysis;
  return {
    maxNodataIntervals: analysis.maxNodataIntervals,
    lowTraffic: {
      minimumRequests: analysis.minimumRequests,
      maxWindowFactor: analysis.maxWindowFactor,
    },
    fallback: { maxErrorRate: analysis.fallbackMaxErrorRate, maxP99Ms: analysis.fallbackMaxP99Ms },
  };
}

/** Analysis runs: recorded from the log, scored on a timer against the configured source. */
@Module({
  imports: [CanaryConfigsModule],
  controllers: [AnalysisRequestHandler],
  providers: [
    {
      provide: METRIC_SOURCE,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) => metricSourceFor(runtime.config),
    },
    {
      provide: ANALYSIS_POLICY,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) => analysisPolicyFor(runtime.config),
    },
    AnalysisRunner,
  ],
})
export class RunsModule {}
