import { runServiceProcess } from '@rollgate/platform';
import { MigrationsAppModule, MIGRATIONS_PERSISTENCE, MIGRATIONS_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(MIGRATIONS_SERVICE, MIGRATIONS_PERSISTENCE, (options) =>
  MigrationsAppModule.forRoot(options),
);
