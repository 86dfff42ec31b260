import { join } from 'node:path';
import { ConfigError, type Env, type RollgateConfig, type ServiceName } from '@rollgate/platform';

export const DEFAULT_CONSOLE_PORT = 7006;
export const CONSOLE_PORT_VAR = 'ROLLGATE_CONSOLE_PORT';

export interface ConsoleConfig {
  host: string;
  port: number;
  /** Where the console's server calls each service's REST API (ROLLGATE_<SERVICE>_URL). */
  serviceUrls: Readonly<Record<ServiceName, string>>;
  /** How often a live stream asks the API for new events (ms). */
  livePollMs: number;
  /** How long a sign-in lasts (ms). */
  sessionTtlMs: number;
  /** The key that seals sign-ins into their cookie (created on first start, owner-only). */
  sessionKeyFile: string;
}

/** The console's own settings on top of the platform's (ROLLGATE_CONSOLE_PORT, default 7006). */
export function parseConsoleConfig(env: Env, platform: RollgateConfig): ConsoleConfig {
  const problems: string[] = [];
  const raw = env[CONSOLE_PORT_VAR];
  const port = raw === undefined ? DEFAULT_CONSOLE_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    problems.push(`${CONSOLE_PORT_VAR}: must be a port number 1-65535, got '${raw}'`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host: platform.host,
    port,
    serviceUrls: platform.serviceUrls,
    livePollMs: 300,
    sessionTtlMs: 12 * 60 * 60 * 1000,
    sessionKeyFile: join(platform.dataDir, 'console-session.key'),
  };
}
