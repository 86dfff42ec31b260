import { runServiceProcess } from '@rollgate/platform';
import { MigrationsAppModule, MIGRATIONS_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(MIGRATIONS_SERVICE, (options) => MigrationsAppModule.forRoot(options));
