import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';

export const FLAGS_SERVICE: ServiceDescriptor = {
  name: 'flags',
  defaultPort: DEFAULT_PORTS.flags,
  title: 'Rollgate flags',
  description:
    'Owns the Flag aggregate: rules, rollouts, kill switch, expiry and retired names. Serves evaluation config to SDKs and emits flag events.',
};

/** Tables, migrations and read models of this service (none yet). */
export const FLAGS_PERSISTENCE: ServicePersistence = {
  entities: [],
  migrations: [],
  projections: [],
};

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class FlagsAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: FlagsAppModule,
      imports: [...serviceAppImports(FLAGS_SERVICE, options)],
    };
  }
}
