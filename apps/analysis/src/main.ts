import { runServiceProcess } from '@rollgate/platform';
import { AnalysisAppModule, ANALYSIS_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(ANALYSIS_SERVICE, (options) => AnalysisAppModule.forRoot(options));
