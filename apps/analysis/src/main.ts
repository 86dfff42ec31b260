import { runServiceProcess } from '@rollgate/platform';
import { AnalysisAppModule, ANALYSIS_PERSISTENCE, ANALYSIS_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(ANALYSIS_SERVICE, ANALYSIS_PERSISTENCE, (options) =>
  AnalysisAppModule.forRoot(options),
);
