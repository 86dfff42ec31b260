import {
  DynamicModule,
  Inject,
  Module,
  type MiddlewareConsumer,
  type NestModule,
  OnModuleInit,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { TOKEN_STORE, type TokenStore } from '../auth/token-store';
import { WhoamiController } from '../auth/whoami.controller';
import { HealthChecks } from '../health/health-checks';
import { HealthController } from '../health/health.controller';
import type { ServiceRuntime } from '../runtime/service-runtime';
import { HttpErrorFilter } from './http-error.filter';
import { requestGuardMiddleware } from './request-guard.middleware';
import { tracingMiddleware } from './tracing.middleware';
import { createValidationPipe } from './validation';

export interface RollgateHttpOptions {
  /** Reported by the built-in `service` health check, so a client can tell who answered. */
  serviceName: string;
  tokenStore: TokenStore;
}

/** What every app module needs from its host: the embedded host shares one store between all five. */
export interface RollgateAppOptions {
  tokenStore: TokenStore;
  runtime: ServiceRuntime;
}

export const ROLLGATE_HTTP_OPTIONS = Symbol('ROLLGATE_HTTP_OPTIONS');

/**
 * The HTTP baseline of every Rollgate service: bearer-token guard, validation pipe, error filter
 * and /health. Global, so feature modules can inject HealthChecks without importing it.
 */
@Module({})
export class RollgateHttpModule implements OnModuleInit, NestModule {
  constructor(
    private readonly checks: HealthChecks,
    @Inject(ROLLGATE_HTTP_OPTIONS) private readonly options: RollgateHttpOptions,
  ) {}

  static forRoot(options: RollgateHttpOptions): DynamicModule {
    return {
      module: RollgateHttpModule,
      global: true,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty' })],
      controllers: [HealthController, WhoamiController],
      providers: [
        { provide: ROLLGATE_HTTP_OPTIONS, useValue: options },
        { provide: TOKEN_STORE, useValue: options.tokenStore },
        HealthChecks,
        { provide: APP_GUARD, useClass: BearerAuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
      exports: [HealthChecks, TOKEN_STORE, ROLLGATE_HTTP_OPTIONS],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(tracingMiddleware, requestGuardMiddleware).forRoutes('*path');
  }

  onModuleInit(): void {
    const name = this.options.serviceName;
    this.checks.register('service', async () => ({ up: true, detail: { name } }));
  }
}
