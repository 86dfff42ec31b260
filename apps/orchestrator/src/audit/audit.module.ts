import { Module } from '@nestjs/common';
import { ReleaseAuditController } from './release-audit.controller';

/** Read-only time travel over the log: GET /releases/:id/timeline and /releases/:id/state. */
@Module({ controllers: [ReleaseAuditController] })
export class AuditModule {}
