import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { DIGEST_PATTERN, SERVICE_NAME_PATTERN, type ReleaseStrategy } from '@rollgate/contracts';
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

  @ApiPropertyOptional({ enum: ['rolling', 'blue-green', 'canary'], default: 'canary' })
  @IsOptional()
  @IsIn(['rolling', 'blue-green', 'canary'])
  strategy?: ReleaseStrategy;
}

export class ReleaseAbortDto {
  @ApiProperty({ example: 'error rate doubled on the canary' })
  @IsString()
  @IsNotEmpty()
  @Length(1, 1000)
  reason!: string;
}

export class ReleaseResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() service!: string;
  @ApiProperty() artifact!: { name: string; digest: string };
  @ApiProperty() strategy!: string;
  @ApiProperty({ enum: ['requested', 'aborted'] }) status!: string;
  @ApiProperty({ nullable: true }) statusReason!: string | null;
  @ApiProperty() requestedBy!: string;
  @ApiProperty() requestedAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(entity: ReleaseEntity): ReleaseResponseDto {
    return {
      id: entity.id,
      service: entity.service,
      artifact: { name: entity.artifactName, digest: entity.artifactDigest },
      strategy: entity.strategy,
      status: entity.status,
      statusReason: entity.statusReason,
      requestedBy: entity.requestedBy,
      requestedAt: entity.requestedAt,
      updatedAt: entity.updatedAt,
    };
  }
}

/** Answer to a command: accepted now, visible in the read model once projected. */
export class CommandAcceptedDto {
  @ApiProperty() releaseId!: string;
  @ApiProperty({ description: 'Ids of the events the command appended.' }) eventIds!: string[];
}
