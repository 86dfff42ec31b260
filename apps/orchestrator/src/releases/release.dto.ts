import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsNotEmpty,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { OptionalField } from '@rollgate/platform';
import {
  DIGEST_PATTERN,
  SERVICE_NAME_PATTERN,
  type ReleasePlan,
  type ReleaseStrategy,
} from '@rollgate/contracts';
import { toReleaseView, type ApiGateState, type Release } from '@rollgate/releases';
import type { ReleaseEntity } from './release.entity';

export class ArtifactApiDto {
  @ApiPropertyOptional({
    type: Object,
    description:
      'The API this build provides: an OpenAPI 3 document (JSON, internal $refs only). Stored by the sha256 of its canonical JSON.',
  })
  @OptionalField()
  @IsObject()
  provides?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: Object,
    description:
      'What this build consumes from other services: {uses: [{service, method, path, sends, reads}]} or a Pact file.',
  })
  @OptionalField()
  @IsObject()
  consumes?: Record<string, unknown>;
}

export class ArtifactDto {
  @ApiProperty({ example: 'registry.example.com/checkout' })
  @IsString()
  @Length(1, 256)
  name!: string;

  @ApiProperty({
    example: 'sha256:0f3c…',
    description:
      'Content digest. Tags such as :latest are refused: a release names immutable bytes.',
  })
  @IsString()
  @Matches(new RegExp(DIGEST_PATTERN), {
    message: 'must be an immutable content digest "sha256:<64 hex>", not a tag such as :latest',
  })
  digest!: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['new-checkout'],
    description:
      'Feature flags this build reads; a flag is not turned on while a build that does not declare it is live',
  })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, { each: true, message: 'each must be a flag key' })
  flags?: string[];

  @ApiPropertyOptional({
    type: ArtifactApiDto,
    description:
      'API documents the build declares; the API compatibility gate checks live builds with them',
  })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => ArtifactApiDto)
  api?: ArtifactApiDto;
}

export class ReleasePlanDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 2 })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(50)
  replicas?: number;

  @ApiPropertyOptional({
    type: [Number],
    example: [5, 25, 50],
    description: 'Ascending canary shares (percent), each at most 50',
  })
  @OptionalField()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(99, { each: true })
  canarySteps?: number[];

  @ApiPropertyOptional({ default: 60 })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(86_400)
  stepSeconds?: number;

  @ApiPropertyOptional({ default: 1 })
  @OptionalField()
  @IsInt()
  @Min(0)
  @Max(50)
  maxSurge?: number;

  @ApiPropertyOptional({ default: 0 })
  @OptionalField()
  @IsInt()
  @Min(0)
  @Max(50)
  maxUnavailable?: number;

  @ApiPropertyOptional({ default: 900 })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(604_800)
  marginalTimeoutSeconds?: number;

  @ApiPropertyOptional({ default: 300 })
  @OptionalField()
  @IsInt()
  @Min(0)
  @Max(86_400)
  warmSeconds?: number;
}

export class ReleaseCreateDto {
  @ApiProperty({ example: 'checkout' })
  @IsString()
  @Matches(new RegExp(SERVICE_NAME_PATTERN), {
    message: 'must be a lowercase DNS label such as "checkout"',
  })
  service!: string;

  @ApiProperty({ type: ArtifactDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ArtifactDto)
  artifact!: ArtifactDto;

  @ApiPropertyOptional({
    example: 'v2.3.0',
    description: 'A label for people; the digest identifies the build',
  })
  @OptionalField()
  @IsString()
  @Length(1, 100)
  version?: string;

  @ApiPropertyOptional({
    enum: ['rolling', 'blue-green', 'canary'],
    description: "Default: the service policy's strategy, else canary",
  })
  @OptionalField()
  @IsIn(['rolling', 'blue-green', 'canary'])
  strategy?: ReleaseStrategy;

  @ApiPropertyOptional({
    example: 'checkout',
    description:
      "The canary config that judges this release. Default: the service policy's, else the config named after the service",
  })
  @OptionalField()
  @IsString()
  @Matches(new RegExp(SERVICE_NAME_PATTERN), { message: 'must name a canary config' })
  canaryConfig?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { raiseShare: { maxPercent: 30 }, thresholdFallback: 'confirm' },
    description:
      'Low-traffic choices for this release, field by field over the service policy\'s (README "Release policy as code")',
  })
  @OptionalField()
  @IsObject()
  lowTraffic?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      "false: expired flags the build reads do not block it. Default: the service policy's flags.expiredBlock, else true",
  })
  @OptionalField()
  @IsBoolean()
  expiredFlagsBlock?: boolean;

  @ApiPropertyOptional({ type: ReleasePlanDto })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => ReleasePlanDto)
  plan?: ReleasePlanDto;

  @ApiPropertyOptional({
    default: false,
    description:
      'Required (true) when the service has no stable build yet: its first release takes all traffic at once. 409 when the service already has one (docs/adr/0010).',
  })
  @OptionalField()
  @IsBoolean()
  first?: boolean;

  @ApiPropertyOptional({
    enum: ['refuse', 'hold'],
    description:
      'What the API compatibility gate does when the release breaks a live build: refuse (409) or hold it until those builds are gone. Default ROLLGATE_API_COMPAT_POLICY.',
  })
  @OptionalField()
  @IsIn(['refuse', 'hold'])
  apiPolicy?: 'refuse' | 'hold';

  @ApiPropertyOptional({
    default: false,
    description:
      'Release despite breaking API findings; needs a reason, recorded with who forced it',
  })
  @OptionalField()
  @IsBoolean()
  force?: boolean;

  @ApiPropertyOptional({ description: 'Why the release is forced (required with force)' })
  @OptionalField()
  @IsString()
  @IsNotEmpty()
  @Length(1, 1000)
  reason?: string;
}

export class ReleasePromoteDto {
  @ApiPropertyOptional({ default: false, description: 'Skip the remaining canary steps' })
  @OptionalField()
  @IsBoolean()
  full?: boolean;
}

export class ReleaseReasonDto {
  @ApiProperty({
    example: 'error rate doubled on the canary',
    description: 'Why, in words: recorded in the log',
  })
  @IsString()
  @IsNotEmpty()
  @Length(1, 1000)
  reason!: string;
}

export class ReleaseAbortDto extends ReleaseReasonDto {
  @ApiPropertyOptional({
    default: false,
    description:
      'Roll back even when the stable build breaks an API a live consumer already uses (the reason is recorded as the override)',
  })
  @OptionalField()
  @IsBoolean()
  force?: boolean;
}

export class ReleaseResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() service!: string;
  @ApiProperty() artifact!: { name: string; digest: string };
  @ApiProperty() version!: string;
  @ApiProperty() strategy!: string;
  @ApiProperty({
    enum: ['progressing', 'paused', 'rolling-back', 'succeeded', 'rolled-back', 'aborted'],
  })
  phase!: string;
  @ApiProperty({ description: 'Current step index; -1 before the first' }) step!: number;
  @ApiProperty() steps!: { description: string; weights: Record<string, number> }[];
  @ApiProperty() stepCompleted!: boolean;
  @ApiProperty({ nullable: true }) reason!: string | null;
  @ApiProperty({ description: 'Instances running a build that was not intended' }) drift!: string[];
  @ApiProperty({
    nullable: true,
    description:
      'The API compatibility gate: verdict, policy, findings, notes and who overrode it (null when never checked)',
  })
  apiGate!: ApiGateState | null;
  @ApiProperty() plan!: ReleasePlan;
  @ApiPropertyOptional({
    description: 'The service policy version the release took its defaults from',
  })
  policy?: { version: number };
  @ApiPropertyOptional({ description: 'The canary config that judges it, when named' })
  canaryConfig?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  lowTraffic?: object;
  @ApiPropertyOptional({ type: [String], description: "The service's owners, from its policy" })
  owners?: string[];
  @ApiProperty() requestedBy!: string;
  @ApiProperty() requestedAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(entity: ReleaseEntity): ReleaseResponseDto {
    return toReleaseView(JSON.parse(entity.summary) as Release, entity);
  }
}

/** Answer to a command: accepted now, visible in the read model once projected. */
export class CommandAcceptedDto {
  @ApiProperty() releaseId!: string;
  @ApiProperty({ description: 'Ids of the events the command appended.' }) eventIds!: string[];
}
