import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ServiceName } from '../config/config';
import {
  openServiceRuntime,
  type ServicePersistence,
  type ServiceRuntime,
} from '../runtime/service-runtime';

/** For tests: a real runtime on the embedded log and SQLite, in a fresh temporary folder. */
export function openTestRuntime(
  service: ServiceName,
  persistence: ServicePersistence,
  env: Record<string, string> = {},
): Promise<ServiceRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), `rollgate-${service}-`));
  return openServiceRuntime(
    parseConfig({ ROLLGATE_DATA_DIR: dataDir, ...env }),
    service,
    persistence,
  );
}
