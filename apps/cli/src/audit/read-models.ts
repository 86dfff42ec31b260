import type { ServiceName, ServicePersistence } from '@rollgate/platform';

/**
 * The read models of every service, as the services declare them (their ServicePersistence).
 * Loaded on demand: only `audit rebuild` needs the services' code.
 */
export async function serviceReadModels(): Promise<Record<ServiceName, ServicePersistence>> {
  const [orchestrator, router, analysis, flags, migrations] = await Promise.all([
    import('@rollgate/app-orchestrator'),
    import('@rollgate/app-router'),
    import('@rollgate/app-analysis'),
    import('@rollgate/app-flags'),
    import('@rollgate/app-migrations'),
  ]);
  return {
    orchestrator: orchestrator.ORCHESTRATOR_PERSISTENCE,
    router: router.ROUTER_PERSISTENCE,
    analysis: analysis.ANALYSIS_PERSISTENCE,
    flags: flags.FLAGS_PERSISTENCE,
    migrations: migrations.MIGRATIONS_PERSISTENCE,
  };
}
