import { runServiceProcess } from '@rollgate/platform';
import { FlagsAppModule, FLAGS_PERSISTENCE, FLAGS_SERVICE } from './app.module';

// Standalone process: reads the environment, opens the tokens file and listens on its port.
runServiceProcess(FLAGS_SERVICE, FLAGS_PERSISTENCE, (options) => FlagsAppModule.forRoot(options));
