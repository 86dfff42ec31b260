import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { HealthChecks, type HealthCheckFn } from './health-checks';

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
  })
  @ApiServiceUnavailableResponse({ description: 'at least one check is down' })
  async check(@Res({ passthrough: true }) response: StatusSettable): Promise<HealthCheckResult> {
    const indicators = this.checks.entries().map(
      ([name, fn]) =>
        () =>
          this.run(name, fn),
    );
    try {
      return await this.health.check(indicators);
    } catch (error) {
      // Keep terminus' body (it names each check) instead of the generic error shape.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }

  private async run(name: string, check: HealthCheckFn): Promise<HealthIndicatorResult> {
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
      return outcome.up ? indicator.up(outcome.detail) : indicator.down(outcome.detail);
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
