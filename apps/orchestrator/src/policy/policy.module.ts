import { Module } from '@nestjs/common';
import type { ServicePersistence } from '@rollgate/platform';
import { ServicePolicyVersions1764000001000 } from './migrations/1764000001000-service-policy-versions';
import { PolicyController } from './policy.controller';
import { PolicyService } from './policy.service';
import { ServicePolicyVersionEntity } from './service-policy-version.entity';

export const POLICY_PERSISTENCE: ServicePersistence = {
  entities: [ServicePolicyVersionEntity],
  migrations: [ServicePolicyVersions1764000001000],
  readModels: [],
};

/** Service policies (rollgate.yaml): the defaults every release of a service starts from. */
@Module({
  controllers: [PolicyController],
  providers: [PolicyService],
  exports: [PolicyService],
})
export class PolicyModule {}
