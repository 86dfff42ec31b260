import { DynamicModule, Module } from '@nestjs/common';
import {
  DEFAULT_PORTS,
  serviceAppImports,
  type RollgateAppOptions,
  type ServicePersistence,
  type ServiceDescriptor,
} from '@rollgate/platform';
import { MIGRATIONS_READ_MODEL, MigrationsModule } from './migrations/migrations.module';

export const MIGRATIONS_SERVICE: ServiceDescriptor = {
  name: 'migrations',
  defaultPort: DEFAULT_PORTS.migrations,
  title: 'Rollgate migrations',
  description:
    'Owns the Migration aggregate: expand, migrate and contract phases on target PostgreSQL databases, gated on fleet state. Emits phase events.',
};

/** Tables, migrations and read models of this service. */
export const MIGRATIONS_PERSISTENCE: ServicePersistence = MIGRATIONS_READ_MODEL;

/** Importable on its own so the embedded host can boot all five services in one process. */
@Module({})
export class MigrationsAppModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: MigrationsAppModule,
      imports: [...serviceAppImports(MIGRATIONS_SERVICE, options), MigrationsModule],
    };
  }
}
