import type { PoolClient } from 'pg';

/** How DDL waits for locks: never longer than `lockTimeoutMs` per try, so the app's queries never queue long. */
export interface LockPolicy {
  lockTimeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_LOCK_POLICY: LockPolicy = {
  lockTimeoutMs: 500,
  maxAttempts: 10,
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
};

/** What one step cost: how often it lost a lock fight and how long it waited in total. */
export interface StepReport {
  description: string;
  attempts: number;
  lockTimeouts: number;
  waitedMs: number;
  durationMs: number;
  ok: boolean;
  error?: string;
}

/** A step gave up after `maxAttempts` lock timeouts; the reports say where the time went. */
export class LockTimeoutExhaustedError extends Error {
  override readonly name = 'LockTimeoutExhaustedError';
  constructor(readonly report: StepReport) {
    super(
      `${report.description}: could not get its lock in ${report.attempts} attempts ` +
        `(lock_timeout each, ${report.waitedMs} ms of backoff); a long transaction holds the table — retry later`,
    );
  }
}

export const isLockTimeout = (error: unknown): boolean =>
  (error as { code?: string }).code === '55P03';

/** Exponential backoff with full jitter, capped. */
export function backoffMs(
  policy: LockPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` with `lock_timeout` set on the session; on SQLSTATE 55P03 backs off and tries
 * again up to the cap. Every other error is thrown at once.
 */
export async function withLockRetry<T>(
  client: PoolClient,
  policy: LockPolicy,
  description: string,
  attempt: () => Promise<T>,
  onRetry?: (report: StepReport) => void,
): Promise<{ value: T; report: StepReport }> {
  const started = Date.now();
  const report: StepReport = {
    description,
    attempts: 0,
    lockTimeouts: 0,
    waitedMs: 0,
    durationMs: 0,
    ok: false,
  };
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(policy.lockTimeoutMs))}`);
  for (;;) {
    report.attempts++;
    try {
      const value = await attempt();
      report.ok = true;
      report.durationMs = Date.now() - started;
      return { value, report };
    } catch (error) {
      if (!isLockTimeout(error)) {
        report.error = (error as Error).message;
        report.durationMs = Date.now() - started;
        throw Object.assign(error as Error, { report });
      }
      report.lockTimeouts++;
      if (report.attempts >= policy.maxAttempts) {
        report.durationMs = Date.now() - started;
        report.error = 'lock timeout';
        throw new LockTimeoutExhaustedError(report);
      }
      const wait = backoffMs(policy, report.attempts);
      report.waitedMs += wait;
      onRetry?.({ ...report, durationMs: Date.now() - started });
      await sleep(wait);
    }
  }
}
