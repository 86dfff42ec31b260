import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  RollgateHttpModule,
  type RollgateAppOptions,
  type ServiceDescriptor,
} from '@rollgate/platform';

export const MIGRATIONS_SERVICE: ServiceDescriptor = {
  name: 'migrations',
  defaultPort: DEFAULT_PORTS.migrations,
  title: 'Rollgate migrations',
  description:
    'Owns the Migration aggregate: expand, migrate and contract phases on target PostgreSQL databases, gated on fleet state. Emits phase events.',
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class MigrationsAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: MigrationsAppModule,
      imports: [
        RollgateHttpModule.forRoot({
          serviceName: MIGRATIONS_SERVICE.name,
          tokenStore: options.tokenStore,
        }),
      ],
    };
  }
}
