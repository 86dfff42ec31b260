import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { OptionalField } from '@rollgate/platform';
import { Type } from 'class-transformer';
import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';
import { FLAG_TYPES, type FlagType } from '@rollgate/flags-domain';

export const FLAG_KEY_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$';
const FLAG_KEY_MESSAGE =
  'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const PROJECT_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

class ReasonField {
  @ApiPropertyOptional({ description: 'Why, in words: recorded on the event' })
  @OptionalField()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}

export class ProjectCreateDto extends ReasonField {
  @ApiProperty({ example: 'payments' })
  @IsString()
  @Matches(new RegExp(PROJECT_PATTERN), { message: 'must be a lowercase name such as "payments"' })
  name!: string;

  @ApiPropertyOptional({
    type: [String],
    default: ['development', 'staging', 'production'],
    description: 'Environments can be added later, never removed',
  })
  @OptionalField()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(/^[a-z0-9][a-z0-9-]{0,39}$/, { each: true, message: 'each must be a lowercase name' })
  environments?: string[];

  @ApiPropertyOptional({
    default: false,
    description: 'Expired flags block new releases of the services that read them',
  })
  @OptionalField()
  @IsBoolean()
  blockReleasesOnExpiredFlags?: boolean;

  @ApiPropertyOptional({
    type: [String],
    example: ['checkout'],
    description:
      "Owner services: a token limited to some services may change the project's flags only when it may touch one of them (none: only a token for every service may)",
  })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(new RegExp(SERVICE_NAME_PATTERN), {
    each: true,
    message: 'each must be a service name such as "checkout"',
  })
  services?: string[];
}

export class FlagCreateDto extends ReasonField {
  @ApiProperty({ example: 'new-checkout' })
  @IsString()
  @Matches(new RegExp(FLAG_KEY_PATTERN), { message: FLAG_KEY_MESSAGE })
  key!: string;

  @ApiPropertyOptional({ default: 'default' })
  @OptionalField()
  @IsString()
  @Matches(new RegExp(PROJECT_PATTERN), { message: 'must be a lowercase project name' })
  project?: string;

  @ApiProperty({ enum: FLAG_TYPES })
  @IsIn(FLAG_TYPES)
  type!: FlagType;

  @ApiProperty({ example: 'team-checkout', description: 'Who answers for this flag' })
  @IsString()
  @Length(1, 200)
  owner!: string;

  @ApiPropertyOptional()
  @OptionalField()
  @IsString()
  @Length(0, 2000)
  description?: string;

  @ApiPropertyOptional({
    example: '2026-12-31T00:00:00Z',
    description: 'ISO 8601 with a zone; default: 40 days for release and experiment flags',
  })
  @OptionalField()
  @IsString()
  expiresAt?: string;
}

/** A flag's whole configuration in one environment (see libs/flags-domain/README.md). */
export class EnvironmentConfigDto extends ReasonField {
  @ApiProperty({ description: 'The off switch: false serves off to everyone' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ example: 'default' })
  @OptionalField()
  @IsString()
  stickiness?: string;

  @ApiPropertyOptional({ example: { allow: ['u-1'], deny: ['u-2'] } })
  @OptionalField()
  @IsObject()
  targets?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: [{ constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] }],
  })
  @OptionalField()
  @IsArray()
  rules?: unknown[];

  @ApiPropertyOptional({ example: { percentage: 25 } })
  @OptionalField()
  @IsObject()
  rollout?: Record<string, unknown>;

  @ApiPropertyOptional()
  @OptionalField()
  @IsBoolean()
  defaultServe?: boolean;

  @ApiPropertyOptional({
    example: [
      { name: 'a', weight: 500 },
      { name: 'b', weight: 500 },
    ],
  })
  @OptionalField()
  @IsArray()
  variants?: unknown[];

  @ApiPropertyOptional({
    description:
      'Turn the flag on although live builds do not declare it (the enablement guard); needs a reason',
  })
  @OptionalField()
  @IsBoolean()
  force?: boolean;
}

export class RolloutDto extends ReasonField {
  @ApiProperty({ example: 'production' })
  @IsString()
  @IsNotEmpty()
  environment!: string;

  @ApiProperty({ minimum: 0, maximum: 100, example: 25 })
  @IsInt()
  @Min(0)
  @Max(100)
  percentage!: number;

  @ApiPropertyOptional({ description: 'Bucket group; the flag key unless set' })
  @OptionalField()
  @IsString()
  @Length(1, 100)
  groupId?: string;
}

export class KillDto {
  @ApiProperty({ example: 'production' })
  @IsString()
  @IsNotEmpty()
  environment!: string;

  @ApiProperty({ example: 'checkout errors doubled' })
  @IsString()
  @Length(1, 1000)
  reason!: string;
}

export class RetireDto {
  @ApiProperty({ example: 'fully rolled out, code path removed' })
  @IsString()
  @Length(1, 1000)
  reason!: string;
}

export class ExtendDto extends ReasonField {
  @ApiProperty({ example: '2027-01-31T00:00:00Z' })
  @IsString()
  @IsNotEmpty()
  expiresAt!: string;
}

export class DefinitionUpdateDto extends ReasonField {
  @ApiPropertyOptional()
  @OptionalField()
  @IsString()
  @Length(1, 200)
  owner?: string;

  @ApiPropertyOptional()
  @OptionalField()
  @IsString()
  @Length(0, 2000)
  description?: string;

  @ApiPropertyOptional({ example: [{ flag: 'new-api', enabled: true }] })
  @OptionalField()
  @IsArray()
  prerequisites?: unknown[];
}

export class SegmentDto extends ReasonField {
  @ApiPropertyOptional()
  @OptionalField()
  @IsString()
  @Length(0, 2000)
  description?: string;

  @ApiProperty({ example: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }] })
  @IsArray()
  constraints!: unknown[];
}

export class EvaluateDto {
  @ApiProperty({ example: 'production' })
  @IsString()
  @IsNotEmpty()
  environment!: string;

  @ApiPropertyOptional({ example: { userId: 'u-42', country: 'NO' } })
  @OptionalField()
  @IsObject()
  context?: Record<string, string | number | boolean | null>;

  @ApiPropertyOptional({
    example: '2026-03-01T12:00:00Z',
    description: 'Evaluate with the ruleset as it was at this instant (replay)',
  })
  @OptionalField()
  @IsString()
  at?: string;

  @ApiPropertyOptional({ description: 'Evaluate with this ruleset version (replay)' })
  @OptionalField()
  @IsInt()
  @Min(0)
  version?: number;
}

/** Answer to a command: the events it appended and the ruleset version they produced. */
export class FlagCommandAcceptedDto {
  @ApiProperty() project!: string;
  @ApiProperty() key!: string;
  @ApiProperty({ description: 'Ruleset version after the command (unchanged if a no-op)' })
  rulesetVersion!: number;
  @ApiProperty({ description: 'Ids of the events the command appended' }) eventIds!: string[];
}

// ---- guarded rollout ---------------------------------------------------------------------------

export class GuardedRolloutDto extends ReasonField {
  @ApiProperty({ example: 'production' })
  @IsString()
  @IsNotEmpty()
  environment!: string;

  @ApiPropertyOptional({
    type: [Number],
    default: [5, 25, 50, 100],
    description: 'Rollout percentages, strictly increasing; the last one is the goal',
  })
  @OptionalField()
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(100, { each: true })
  steps?: number[];

  @ApiPropertyOptional({ default: 60, description: 'How long each step is judged at least' })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(86_400)
  stepSeconds?: number;

  @ApiPropertyOptional({ enum: ['sequential', 'kayenta', 'threshold'], default: 'sequential' })
  @OptionalField()
  @IsIn(['sequential', 'kayenta', 'threshold'])
  judge?: 'sequential' | 'kayenta' | 'threshold';
}

export class CohortOutcomesDto {
  @ApiProperty({ enum: ['on', 'off'], description: 'Flag on (canary) or off (baseline)' })
  @IsIn(['on', 'off'])
  cohort!: 'on' | 'off';

  @ApiProperty({ minimum: 0 })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  requests!: number;

  @ApiProperty({ minimum: 0, description: 'At most `requests`' })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  errors!: number;

  @ApiPropertyOptional({ type: [Number], description: 'A sample of latencies (ms), up to 1000' })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0, { each: true })
  latenciesMs?: number[];
}

export class OutcomesDto {
  @ApiProperty({ example: 'production' })
  @IsString()
  @IsNotEmpty()
  environment!: string;

  @ApiProperty({ type: [CohortOutcomesDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2)
  @ValidateNested({ each: true })
  @Type(() => CohortOutcomesDto)
  cohorts!: CohortOutcomesDto[];
}
