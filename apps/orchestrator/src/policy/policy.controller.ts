import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  assertMayTouchService,
  momentQuery,
  Principal,
  RequireScopes,
  type AuthPrincipal,
} from '@rollgate/platform';
import { PolicyService, type ServicePolicyVersion } from './policy.service';

const POLICY_EXAMPLE = {
  apiVersion: 'rollgate/v1',
  kind: 'ServicePolicy',
  service: 'checkout',
  owners: ['team-payments@example.com'],
  release: { strategy: 'canary', plan: { steps: [5, 25, 50], stepSeconds: 120, replicas: 3 } },
  analysis: { canaryConfig: 'checkout' },
  flags: { expiredBlock: true },
  lowTraffic: { raiseShare: { maxPercent: 50 }, thresholdFallback: 'confirm' },
};

const POLICY_BODY = {
  description:
    'The policy document (rollgate.yaml) as a JSON object, or {"policy": "<its YAML or JSON text>"}. See README "Release policy as code".',
  schema: {
    oneOf: [
      { type: 'object', additionalProperties: true, example: POLICY_EXAMPLE },
      {
        type: 'object',
        properties: { policy: { type: 'string' } },
        required: ['policy'],
      },
    ],
  },
};

export class PolicyChangeDto {
  @ApiProperty({ example: 'release.plan.steps[1]' }) path!: string;
  @ApiProperty({ enum: ['added', 'removed', 'changed'] }) change!: string;
  @ApiPropertyOptional({ description: 'The value in force (absent when added)' })
  before?: unknown;
  @ApiPropertyOptional({ description: 'The new value (absent when removed)' })
  after?: unknown;
}

export class PolicyAppliedDto {
  @ApiProperty() service!: string;
  @ApiProperty({
    description: 'The version in force after it (for a diff: the one it would create)',
  })
  version!: number;
  @ApiProperty({ description: 'False when the document equals the version in force.' })
  changed!: boolean;
  @ApiProperty({ type: [PolicyChangeDto] }) changes!: PolicyChangeDto[];
  @ApiPropertyOptional({
    description: 'The inline canary config, applied as the config named after the service',
  })
  canaryConfig?: { name: string; version: number; changed: boolean };
  @ApiProperty({ type: [String] }) eventIds!: string[];
}

export class PolicyVersionDto {
  @ApiProperty() service!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'From this moment on the version is in force.' })
  appliedAt!: string;
  @ApiProperty({ description: 'The actor who applied it, e.g. user:alice.' })
  appliedBy!: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  policy!: object;

  static from(version: ServicePolicyVersion): PolicyVersionDto {
    return Object.assign(new PolicyVersionDto(), version);
  }
}

/** The document a body carries: `{policy: text-or-object}` alone, else the body itself. */
function documentOf(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 1 && keys[0] === 'policy') return (body as { policy: unknown }).policy;
  }
  return body;
}

/**
 * Release policy as code: a service's default strategy and plan, canary config, owners, flag rule,
 * notification targets and low-traffic choices. Applying needs `deploy` (a token limited to some
 * services only for those); reading needs `read`.
 */
@ApiTags('policy')
@Controller('services')
export class PolicyController {
  constructor(private readonly policies: PolicyService) {}

  @Post(':name/policy')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'Apply a service policy: a new version if anything changed',
    description:
      'Invalid documents are refused with 400 naming each path (e.g. release.plan.steps[1], analysis.metrics[2].query.prometheus for an inline canary config); nothing is stored unless all is valid. An inline canary config is applied as the config named after the service. The same document again stores nothing (changed: false). Releases requested from now on take their defaults from the new version.',
  })
  @ApiBody(POLICY_BODY)
  @ApiOkResponse({ type: PolicyAppliedDto })
  apply(
    @Param('name') name: string,
    @Body() body: unknown,
    @Principal() principal: AuthPrincipal,
    @Headers('authorization') authorization?: string,
  ): Promise<PolicyAppliedDto> {
    assertMayTouchService(principal, name);
    return this.policies.apply(name, documentOf(body), principal.actor, {
      ...(authorization && { authorization }),
    });
  }

  @Post(':name/policy/diff')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'What applying this policy would change; stores nothing',
    description:
      'Validates exactly like apply (400 naming each path) and lists the changes from the version in force, path by path.',
  })
  @ApiBody(POLICY_BODY)
  @ApiOkResponse({ type: PolicyAppliedDto })
  diff(
    @Param('name') name: string,
    @Body() body: unknown,
    @Principal() principal: AuthPrincipal,
    @Headers('authorization') authorization?: string,
  ): Promise<PolicyAppliedDto> {
    assertMayTouchService(principal, name);
    return this.policies.apply(name, documentOf(body), principal.actor, {
      dryRun: true,
      ...(authorization && { authorization }),
    });
  }

  @Get(':name/policy')
  @RequireScopes('read')
  @ApiOperation({ summary: 'The policy version in force now, or at a past moment' })
  @ApiQuery({ name: 'at', required: false, description: 'ISO 8601 moment; default now' })
  @ApiOkResponse({ type: PolicyVersionDto })
  async get(@Param('name') name: string, @Query('at') at?: string): Promise<PolicyVersionDto> {
    return PolicyVersionDto.from(await this.policies.get(name, momentQuery(at)));
  }

  @Get(':name/policy/versions')
  @RequireScopes('read')
  @ApiOperation({ summary: 'Every policy version with who applied it and when, oldest first' })
  @ApiOkResponse({ type: [PolicyVersionDto] })
  async versions(@Param('name') name: string): Promise<PolicyVersionDto[]> {
    return (await this.policies.versions(name)).map((v) => PolicyVersionDto.from(v));
  }
}
