import { Body, Controller, ForbiddenException, Get, Param, Put, Query } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { IsDefined } from 'class-validator';
import {
  invalidFields,
  momentQuery,
  Principal,
  RequireScopes,
  type AuthPrincipal,
} from '@rollgate/platform';
import { CanaryConfigsService, type CanaryConfigVersion } from './canary-configs.service';

export class CanaryConfigApplyDto {
  @ApiProperty({
    description:
      'The canary config: a JSON object, or its text in JSON or YAML (see README "Canary configs").',
    example: {
      apiVersion: 'rollgate/v1',
      kind: 'CanaryConfig',
      metrics: [
        {
          name: 'errors',
          query: {
            embedded: 'error-rate',
            prometheus:
              'sum(rate(http_requests_total{service="${service}",group="${group}",code=~"5.."}[${interval}]))',
          },
          direction: 'increase',
          critical: true,
        },
      ],
      judge: { name: 'sequential' },
    },
  })
  @IsDefined()
  config!: unknown;
}

export class CanaryConfigAppliedDto {
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The version now in force (unchanged when nothing changed).' })
  version!: number;
  @ApiProperty({ description: 'False when the document equals the version in force.' })
  changed!: boolean;
  @ApiProperty({ type: [String] }) eventIds!: string[];
}

export class CanaryConfigVersionDto {
  @ApiProperty() name!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'From this moment on the version is in force.' })
  appliedAt!: string;
  @ApiProperty({ description: 'The actor who applied it, e.g. user:alice.' })
  appliedBy!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  config!: object;

  static from(version: CanaryConfigVersion): CanaryConfigVersionDto {
    return Object.assign(new CanaryConfigVersionDto(), version);
  }
}

/**
 * Canary configs: which metrics judge a canary, how they weigh and which judge decides.
 * Applying needs `deploy` (whoever may release a service may say how it is judged); reading
 * needs `read`.
 */
@ApiTags('canary-configs')
@Controller('canary-configs')
export class CanaryConfigsController {
  constructor(private readonly configs: CanaryConfigsService) {}

  @Put(':name')
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'Apply a canary config: a new version if anything changed',
    description:
      'Invalid documents are refused with 400 naming each path (e.g. metrics[2].query.prometheus); PromQL is parsed by the configured Prometheus (503 if it cannot be reached). Nothing is stored unless all is valid. Releases that start from now on are judged by the new version. With ?dryRun=true the document is only validated: nothing is stored, the answer says whether it would change anything.',
  })
  @ApiQuery({ name: 'dryRun', required: false, description: 'true: validate only, store nothing' })
  @ApiOkResponse({ type: CanaryConfigAppliedDto })
  apply(
    @Param('name') name: string,
    @Body() body: CanaryConfigApplyDto,
    @Principal() principal: AuthPrincipal,
    @Query('dryRun') dryRun?: string,
  ): Promise<CanaryConfigAppliedDto> {
    // A token limited to some services may only configure those (a config named after one).
    if (!principal.mayTouchService(name))
      throw new ForbiddenException(`token of ${principal.subject} may not touch service ${name}`);
    if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false')
      throw invalidFields([{ field: 'dryRun', problem: 'must be true or false' }]);
    return this.configs.apply(name, body.config, principal.actor, dryRun === 'true');
  }

  @Get(':name')
  @RequireScopes('read')
  @ApiOperation({ summary: 'The version in force now, or at a past moment' })
  @ApiQuery({ name: 'at', required: false, description: 'ISO 8601 moment; default now' })
  @ApiOkResponse({ type: CanaryConfigVersionDto })
  async get(
    @Param('name') name: string,
    @Query('at') at?: string,
  ): Promise<CanaryConfigVersionDto> {
    return CanaryConfigVersionDto.from(await this.configs.get(name, momentQuery(at)));
  }

  @Get(':name/versions')
  @RequireScopes('read')
  @ApiOperation({ summary: 'Every version with who applied it and when, oldest first' })
  @ApiOkResponse({ type: [CanaryConfigVersionDto] })
  async versions(@Param('name') name: string): Promise<CanaryConfigVersionDto[]> {
    return (await this.configs.versions(name)).map((v) => CanaryConfigVersionDto.from(v));
  }
}
