import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { FLAGS_READ_MODEL, FlagsModule, type FlagsModuleOptions } from './flags/flags.module';

export const FLAGS_SERVICE: ServiceDescriptor = {
  name: 'flags',
  defaultPort: DEFAULT_PORTS.flags,
  title: 'Rollgate flags',
  description:
    'Owns the Flag aggregate: rules, rollouts, kill switch, expiry and retired names. Serves evaluation config to SDKs and emits flag events.',
};

/** Tables, migrations and read models of this service. */
export const FLAGS_PERSISTENCE: ServicePersistence = FLAGS_READ_MODEL;

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class FlagsAppModule {
  static forRoot(options: RollgateAppOptions, flags: FlagsModuleOptions = {}): DynamicModule {
    return {
      module: FlagsAppModule,
      imports: [...serviceAppImports(FLAGS_SERVICE, options), FlagsModule.forRoot(flags)],
    };
  }
}
