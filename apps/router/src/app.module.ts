import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';

export const ROUTER_SERVICE: ServiceDescriptor = {
  name: 'router',
  defaultPort: DEFAULT_PORTS.router,
  title: 'Rollgate router',
  description:
    'Owns the route table of every service (weights per version group) and its data planes. Applies weights to HAProxy (runtime API) or the embedded proxy and emits RouteApplied only after the data plane confirms.',
};

/** Tables, migrations and read models of this service (none yet). */
export const ROUTER_PERSISTENCE: ServicePersistence = {
  entities: [],
  migrations: [],
  projections: [],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class RouterAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: RouterAppModule,
      imports: [...serviceAppImports(ROUTER_SERVICE, options)],
    };
  }
}
