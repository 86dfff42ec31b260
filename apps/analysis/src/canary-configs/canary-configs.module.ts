import { Module } from '@nestjs/common';
import { CanaryConfigsController } from './canary-configs.controller';
import { CanaryConfigsService } from './canary-configs.service';

/** Canary configs: the versioned documents that say how a service's canaries are judged. */
@Module({
  controllers: [CanaryConfigsController],
  providers: [CanaryConfigsService],
  exports: [CanaryConfigsService],
})
export class CanaryConfigsModule {}
