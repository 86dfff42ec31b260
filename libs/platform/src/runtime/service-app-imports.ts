import type { DynamicModule } from '@nestjs/common';
import { RollgateHttpModule, type RollgateAppOptions } from '../http/rollgate-http.module';
import type { ServiceDescriptor } from '../http/start-service';
import { RuntimeModule } from './runtime.module';

/** What every service app imports first: HTTP baseline (auth, validation, health) and its runtime. */
export function serviceAppImports(
  service: ServiceDescriptor,
  options: RollgateAppOptions,
): DynamicModule[] {
  return [
    RollgateHttpModule.forRoot({ serviceName: service.name, tokenStore: options.tokenStore }),
    RuntimeModule.forRoot(options.runtime),
  ];
}
