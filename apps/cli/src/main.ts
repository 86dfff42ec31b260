import { ConfigError, loadConfig } from '@rollgate/platform';
import { runCli } from './program';

// Entry point of the `rollgate` command (bin/rollgate.js requires this file).
async function main(): Promise<number> {
  const output = {
    out: (text: string) => process.stdout.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  try {
    return await runCli(process.argv.slice(2), { config: loadConfig(), output });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`${error.message}\n`);
    return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
