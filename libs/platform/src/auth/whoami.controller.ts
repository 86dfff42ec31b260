import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Principal, RequireScopes } from './decorators';
import { SCOPES, type AuthPrincipal, type Scope } from './principal';

export class WhoamiDto {
  @ApiProperty({ example: 'local-admin' })
  subject!: string;

  @ApiProperty({
    example: 'user:local-admin',
    description: 'The actor written on the events this token causes',
  })
  actor!: string;

  @ApiProperty({ enum: SCOPES, isArray: true })
  scopes!: Scope[];

  @ApiPropertyOptional({
    type: [String],
    description: 'The services this token may touch; absent means every service',
  })
  services?: string[];
}

/**
 * What the bearer token grants, so a client (the web console) can hide what the API would
 * refuse. It only describes: every route still checks the token itself.
 */
@ApiTags('auth')
@Controller('auth')
export class WhoamiController {
  @Get('whoami')
  @RequireScopes()
  @ApiOperation({ summary: "The token's subject, scopes and services (401 without a valid token)" })
  @ApiOkResponse({ type: WhoamiDto })
  whoami(@Principal() principal: AuthPrincipal): WhoamiDto {
    return {
      subject: principal.subject,
      actor: principal.actor,
      scopes: [...principal.scopes],
      ...(principal.services ? { services: [...principal.services] } : {}),
    };
  }
}
