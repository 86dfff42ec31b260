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
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { FLAG_TYPES, type FlagType } from '@rollgate/flags-domain';

export const FLAG_KEY_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$';
const FLAG_KEY_MESSAGE =
  'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const PROJECT_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

class ReasonField {
  @ApiPropertyOptional({ description: 'Why, in words: recorded on the event' })
  @IsOptional()
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
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(/^[a-z0-9][a-z0-9-]{0,39}$/, { each: true, message: 'each must be a lowercase name' })
  environments?: string[];

  @ApiPropertyOptional({
    default: false,
    description: 'Expired flags block new releases of the services that read them',
  })
  @IsOptional()
  @IsBoolean()
  blockReleasesOnExpiredFlags?: boolean;
}

export class FlagCreateDto extends ReasonField {
  @ApiProperty({ example: 'new-checkout' })
  @IsString()
  @Matches(new RegExp(FLAG_KEY_PATTERN), { message: FLAG_KEY_MESSAGE })
  key!: string;

  @ApiPropertyOptional({ default: 'default' })
  @IsOptional()
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
  @IsOptional()
  @IsString()
  @Length(0, 2000)
  description?: string;

  @ApiPropertyOptional({
    example: '2026-12-31T00:00:00Z',
    description: 'ISO 8601 with a zone; default: 40 days for release and experiment flags',
  })
  @IsOptional()
  @IsString()
  expiresAt?: string;
}

/** A flag's whole configuration in one environment (see libs/flags-domain/README.md). */
export class EnvironmentConfigDto extends ReasonField {
  @ApiProperty({ description: 'The off switch: false serves off to everyone' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ example: 'default' })
  @IsOptional()
  @IsString()
  stickiness?: string;

  @ApiPropertyOptional({ example: { allow: ['u-1'], deny: ['u-2'] } })
  @IsOptional()
  @IsObject()
  targets?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: [{ constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] }],
  })
  @IsOptional()
  @IsArray()
  rules?: unknown[];

  @ApiPropertyOptional({ example: { percentage: 25 } })
  @IsOptional()
  @IsObject()
  rollout?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  defaultServe?: boolean;

  @ApiPropertyOptional({
    example: [
      { name: 'a', weight: 500 },
      { name: 'b', weight: 500 },
    ],
  })
  @IsOptional()
  @IsArray()
  variants?: unknown[];

  @ApiPropertyOptional({
    description:
      'Turn the flag on although live builds do not declare it (the enablement guard); needs a reason',
  })
  @IsOptional()
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
  @IsOptional()
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
  @IsOptional()
  @IsString()
  @Length(1, 200)
  owner?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(0, 2000)
  description?: string;

  @ApiPropertyOptional({ example: [{ flag: 'new-api', enabled: true }] })
  @IsOptional()
  @IsArray()
  prerequisites?: unknown[];
}

export class SegmentDto extends ReasonField {
  @ApiPropertyOptional()
  @IsOptional()
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
  @IsOptional()
  @IsObject()
  context?: Record<string, string | number | boolean | null>;

  @ApiPropertyOptional({
    example: '2026-03-01T12:00:00Z',
    description: 'Evaluate with the ruleset as it was at this instant (replay)',
  })
  @IsOptional()
  @IsString()
  at?: string;

  @ApiPropertyOptional({ description: 'Evaluate with this ruleset version (replay)' })
  @IsOptional()
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
  @IsOptional()
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(100, { each: true })
  steps?: number[];

  @ApiPropertyOptional({ default: 60, description: 'How long each step is judged at least' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  stepSeconds?: number;

  @ApiPropertyOptional({ enum: ['sequential', 'kayenta', 'threshold'], default: 'sequential' })
  @IsOptional()
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
  @IsOptional()
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
