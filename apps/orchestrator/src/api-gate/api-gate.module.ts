import { Module } from '@nestjs/common';
import { FleetModule } from '../rollout/fleet.module';
import { ApiDocuments } from './api-documents';
import { ApiGate } from './api-gate';
import { CompatController } from './compat.controller';

/** The API compatibility gate: stored documents, the check over the live fleet, its endpoints. */
@Module({
  imports: [FleetModule],
  controllers: [CompatController],
  providers: [ApiDocuments, ApiGate],
  exports: [ApiDocuments, ApiGate],
})
export class ApiGateModule {}
