import { Module } from '@nestjs/common';
import { ApiGateModule } from '../api-gate/api-gate.module';
import { FleetModule } from './fleet.module';
import { Reconciler } from './reconciler';

export { FleetModule };

/** Drives releases: the reconcile loop over the fleet (and the API gate before each step). */
@Module({ imports: [FleetModule, ApiGateModule], providers: [Reconciler] })
export class RolloutModule {}
