import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  RollgateHttpModule,
  type RollgateAppOptions,
  type ServiceDescriptor,
} from '@rollgate/platform';

export const ROUTER_SERVICE: ServiceDescriptor = {
  name: 'router',
  defaultPort: DEFAULT_PORTS.router,
  title: 'Rollgate router',
  description:
    'Owns the route table of every service (weights per version group) and its data planes. Applies weights to HAProxy (runtime API) or the embedded proxy and emits RouteApplied only after the data plane confirms.',
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class RouterAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: RouterAppModule,
      imports: [
        RollgateHttpModule.forRoot({
          serviceName: ROUTER_SERVICE.name,
          tokenStore: options.tokenStore,
        }),
      ],
    };
  }
}
