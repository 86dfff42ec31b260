import { ForbiddenException, ServiceUnavailableException } from '@nestjs/common';
import type { PolicyProblem } from '@rollgate/releases';

/** What the analysis service answered about an inline canary config. */
export type CanaryConfigAnswer =
  { ok: true; version: number; changed: boolean } | { ok: false; problems: PolicyProblem[] };

/**
 * The analysis service's canary-config API, used for a policy's inline config: validated with
 * `?dryRun=true` before the policy stores anything, then applied. The caller's own credentials are
 * forwarded, so the config change is recorded as theirs and held to their token's limits.
 */
export class CanaryConfigClient {
  constructor(
    private readonly analysisUrl: string,
    private readonly serviceToken: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Whether a canary config of that name has a version (a policy or a release may name it). */
  async exists(name: string, callerAuthorization?: string): Promise<boolean> {
    const url = `${this.analysisUrl}/canary-configs/${encodeURIComponent(name)}`;
    // Reading needs `read`, which a deploy-only caller may lack: this service asks for itself.
    const authorization = this.serviceToken ? `Bearer ${this.serviceToken}` : callerAuthorization;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: authorization ? { authorization } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ServiceUnavailableException(
        `the analysis service (${this.analysisUrl}) did not answer about canary config ${name}: ${String(error)}`,
      );
    }
    await response.body?.cancel();
    if (response.ok) return true;
    if (response.status === 404) return false;
    if (response.status === 403 || response.status === 401)
      throw new ForbiddenException(
        `the analysis service refused to show canary config ${name} (${response.status})`,
      );
    throw new ServiceUnavailableException(
      `the analysis service answered ${response.status} about canary config ${name}`,
    );
  }

  async put(
    name: string,
    config: unknown,
    options: { dryRun: boolean; authorization?: string },
  ): Promise<CanaryConfigAnswer> {
    const url = `${this.analysisUrl}/canary-configs/${name}${options.dryRun ? '?dryRun=true' : ''}`;
    const authorization = this.authorization(options.authorization);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ config }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ServiceUnavailableException(
        `the analysis service (${this.analysisUrl}) did not answer about canary config ${name}: ${String(error)}`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as {
      version?: number;
      changed?: boolean;
      message?: string;
      details?: PolicyProblem[];
    };
    if (response.ok)
      return { ok: true, version: body.version ?? 0, changed: body.changed ?? false };
    if (response.status === 400)
      return {
        ok: false,
        problems: (body.details ?? [{ field: 'config', problem: body.message ?? 'is invalid' }])
          // The analysis names paths in the config; in the policy it is written under `analysis`.
          .map((p) => ({
            field: p.field === 'config' ? 'analysis' : `analysis.${p.field}`,
            problem: p.problem,
          })),
      };
    if (response.status === 403 || response.status === 401)
      throw new ForbiddenException(
        `the analysis service refused canary config ${name}: ${body.message ?? response.status}`,
      );
    throw new ServiceUnavailableException(
      `the analysis service answered ${response.status} about canary config ${name}: ${body.message ?? ''}`,
    );
  }

  /** The caller's own credentials when there are some, else this service's token. */
  private authorization(caller: string | undefined): string | undefined {
    return caller ?? (this.serviceToken ? `Bearer ${this.serviceToken}` : undefined);
  }
}
