import { runServiceProcess } from '@rollgate/platform';
import { RouterAppModule, ROUTER_PERSISTENCE, ROUTER_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(ROUTER_SERVICE, ROUTER_PERSISTENCE, (options) =>
  RouterAppModule.forRoot(options),
);
