import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsDefined,
  IsObject,
  IsString,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';

/** May be left out, but not sent as null: `@IsOptional` would let a null through to the service. */
const OptionalNotNull = () => ValidateIf((_object, value) => value !== undefined);

export class MigrationPlanDto {
  @ApiProperty({
    example: 'accounts',
    description:
      "Target database on the service's PostgreSQL server (credentials come from ROLLGATE_DATABASE_URL, never from the request); one of ROLLGATE_MIGRATION_DATABASES (default: the database of ROLLGATE_DATABASE_URL), never template0/template1.",
  })
  @IsString()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a database name (a-z, 0-9, _)' })
  database!: string;

  @ApiProperty({
    description:
      'The plan: a JSON object, or its text in JSON or YAML (see README "Schema migrations").',
    example: {
      name: 'rename_email',
      service: 'accounts',
      versions: { old: ['1.4.0'], new: ['1.5.0'] },
      operations: [{ op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' }],
    },
  })
  @IsDefined()
  plan!: unknown;
}

export class MigrationLintDto {
  @ApiPropertyOptional({ description: 'A plan (object, or JSON/YAML text) to check.' })
  @OptionalNotNull()
  @IsDefined()
  plan?: unknown;

  @ApiPropertyOptional({ description: 'Raw SQL to check with the Squawk-style rules.' })
  @OptionalNotNull()
  @IsString()
  @Length(1, 1_000_000)
  sql?: string;

  @ApiPropertyOptional({ type: [String], description: 'Application versions live now.' })
  @OptionalNotNull()
  @IsArray()
  @IsString({ each: true })
  liveVersions?: string[];

  @ApiPropertyOptional({ description: 'Columns (table.column) each application version reads.' })
  @OptionalNotNull()
  @IsObject()
  reads?: Record<string, string[]>;
}

export class MigrationAcceptedDto {
  @ApiProperty()
  migrationId!: string;

  @ApiProperty({ type: [String] })
  eventIds!: string[];
}
