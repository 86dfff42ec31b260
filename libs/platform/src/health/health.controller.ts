import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { HealthChecks, type HealthCheckFn, type HealthCheckOutcome } from './health-checks';

/** Terminus' body with our two extra top-level states. */
type ConditionedResult = Omit<HealthCheckResult, 'status'> & { status: 'starting' | 'degraded' };

/** A check that hangs must not hang /health: it counts as down after this long. */
export const HEALTH_CHECK_TIMEOUT_MS = 3000;

interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly checks: HealthChecks,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary: 'Up when every registered check is up; 503 names the ones that are not',
    description:
      'status is "ok", "degraded" (200: serving, but a consumer is further behind the log than ROLLGATE_HEALTH_MAX_LAG), "starting" (503: consumers have not joined yet) or "error" (503).',
  })
  @ApiServiceUnavailableResponse({ description: 'starting, or at least one check is down' })
  async check(
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<HealthCheckResult | ConditionedResult> {
    const conditions = new Set<HealthCheckOutcome['condition']>();
    const indicators = this.checks.entries().map(
      ([name, fn]) =>
        () =>
          this.run(name, fn, conditions),
    );
    try {
      const result = await this.health.check(indicators);
      if (conditions.has('starting')) {
        response.status(503);
        return { ...result, status: 'starting' };
      }
      return conditions.has('degraded') ? { ...result, status: 'degraded' } : result;
    } catch (error) {
      // Keep terminus' body (it names each check) instead of the generic error shape.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }

  private async run(
    name: string,
    check: HealthCheckFn,
    conditions: Set<HealthCheckOutcome['condition']>,
  ): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(name);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)),
        HEALTH_CHECK_TIMEOUT_MS,
      );
    });
    try {
      const outcome = await Promise.race([check(), timeout]);
      if (!outcome.up) return indicator.down(outcome.detail);
      if (outcome.condition) conditions.add(outcome.condition);
      return indicator.up({
        ...outcome.detail,
        ...(outcome.condition ? { condition: outcome.condition } : {}),
      });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
