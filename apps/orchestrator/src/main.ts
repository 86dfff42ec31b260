import { runServiceProcess } from '@rollgate/platform';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(ORCHESTRATOR_SERVICE, ORCHESTRATOR_PERSISTENCE, (options) =>
  OrchestratorAppModule.forRoot(options),
);
