import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { Routes1764000000200 } from './routes/migrations/1764000000200-routes';
import { RouteEntity } from './routes/route.entity';
import { RoutingModule } from './routes/routing.module';

export const ROUTER_SERVICE: ServiceDescriptor = {
  name: 'router',
  defaultPort: DEFAULT_PORTS.router,
  title: 'Rollgate router',
  description:
    'Owns the route table of every service (weights per version group) and its data planes. Applies weights to HAProxy (runtime API) or the embedded proxy and emits RouteApplied only after the data plane confirms.',
};

/** Tables and migrations of this service; its one consumer needs the data plane (RoutingModule). */
export const ROUTER_PERSISTENCE: ServicePersistence = {
  entities: [RouteEntity],
  migrations: [Routes1764000000200],
  readModels: [],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class RouterAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: RouterAppModule,
      imports: [...serviceAppImports(ROUTER_SERVICE, options), RoutingModule],
    };
  }
}
