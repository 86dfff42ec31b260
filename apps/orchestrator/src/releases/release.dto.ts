import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  DIGEST_PATTERN,
  SERVICE_NAME_PATTERN,
  type ReleasePlan,
  type ReleaseStrategy,
} from '@rollgate/contracts';
import { toReleaseView, type Release } from '@rollgate/releases';
import type { ReleaseEntity } from './release.entity';

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
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, { each: true, message: 'each must be a flag key' })
  flags?: string[];
}

export class ReleasePlanDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 2 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  replicas?: number;

  @ApiPropertyOptional({
    type: [Number],
    example: [5, 25, 50],
    description: 'Ascending canary shares (percent), each at most 50',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(99, { each: true })
  canarySteps?: number[];

  @ApiPropertyOptional({ default: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  stepSeconds?: number;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxSurge?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(50)
  maxUnavailable?: number;

  @ApiPropertyOptional({ default: 900 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(604_800)
  marginalTimeoutSeconds?: number;

  @ApiPropertyOptional({ default: 300 })
  @IsOptional()
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
  @ValidateNested()
  @Type(() => ArtifactDto)
  artifact!: ArtifactDto;

  @ApiPropertyOptional({
    example: 'v2.3.0',
    description: 'A label for people; the digest identifies the build',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  version?: string;

  @ApiPropertyOptional({ enum: ['rolling', 'blue-green', 'canary'], default: 'canary' })
  @IsOptional()
  @IsIn(['rolling', 'blue-green', 'canary'])
  strategy?: ReleaseStrategy;

  @ApiPropertyOptional({ type: ReleasePlanDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ReleasePlanDto)
  plan?: ReleasePlanDto;
}

export class ReleasePromoteDto {
  @ApiPropertyOptional({ default: false, description: 'Skip the remaining canary steps' })
  @IsOptional()
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
  @ApiProperty() plan!: ReleasePlan;
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
