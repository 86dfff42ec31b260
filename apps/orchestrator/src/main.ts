import { runServiceProcess } from '@rollgate/platform';
import { OrchestratorAppModule, ORCHESTRATOR_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(ORCHESTRATOR_SERVICE, (options) => OrchestratorAppModule.forRoot(options));
