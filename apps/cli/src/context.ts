import type { RollgateConfig } from '@rollgate/platform';

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** What every command receives. */
export interface CliContext {
  config: RollgateConfig;
  output: CliOutput;
  /** Bearer token for mutating commands: --token, else ROLLGATE_TOKEN; set before any action runs. */
  token: string | undefined;
  probeTimeoutMs: number;
}
