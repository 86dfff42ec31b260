import { DynamicModule, Module } from '@nestjs/common';
import { CONSOLE_CONFIG, ConsoleController } from './console.controller';
import type { ConsoleConfig } from './console-config';

@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController],
      providers: [{ provide: CONSOLE_CONFIG, useValue: config }],
    };
  }
}
