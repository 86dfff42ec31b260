import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { LowTrafficChoices } from '@rollgate/releases';
import {
  assertMayTouchService,
  Principal,
  RequireScopes,
  setLocation,
  type AuthPrincipal,
} from '@rollgate/platform';
import {
  CommandAcceptedDto,
  ReleaseAbortDto,
  ReleaseCreateDto,
  ReleasePromoteDto,
  ReleaseReasonDto,
  ReleaseResponseDto,
} from './release.dto';
import { ReleasesService } from './releases.service';

@ApiTags('releases')
@Controller('releases')
export class ReleasesController {
  constructor(private readonly releases: ReleasesService) {}

  @Post()
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'Request a release of a digest-pinned artifact',
    description:
      '409 names the active release when the service already has one. A service without a stable build needs first: true (400 otherwise); first: true on a service that has one is 409. With artifact.api, 409 when the build breaks an API a live build uses (policy refuse), unless force: true with a reason; under policy hold the release waits (docs/adr/0012).',
  })
  async create(
    @Body() body: ReleaseCreateDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
    @Headers('authorization') authorization?: string,
  ): Promise<CommandAcceptedDto> {
    assertMayTouchService(principal, body.service);
    if (body.force && !body.reason)
      throw new BadRequestException({
        message: 'validation failed',
        details: [{ field: 'reason', problem: 'force needs a reason: it is recorded in the log' }],
      });
    const { api, ...artifact } = body.artifact;
    const { releaseId, events } = await this.releases.request(
      {
        service: body.service,
        artifact: {
          name: artifact.name,
          digest: artifact.digest,
          ...(artifact.flags ? { flags: artifact.flags } : {}),
        },
        ...(api ? { documents: { provides: api.provides, consumes: api.consumes } } : {}),
        ...(body.apiPolicy ? { apiPolicy: body.apiPolicy } : {}),
        ...(body.force ? { forceReason: body.reason! } : {}),
        ...(body.strategy ? { strategy: body.strategy } : {}),
        ...(body.canaryConfig ? { canaryConfig: body.canaryConfig } : {}),
        ...(body.lowTraffic ? { lowTraffic: body.lowTraffic as LowTrafficChoices } : {}),
        ...(body.expiredFlagsBlock !== undefined
          ? { expiredFlagsBlock: body.expiredFlagsBlock }
          : {}),
        actor: principal.actor,
        ...(body.version ? { version: body.version } : {}),
        ...(body.plan ? { plan: { ...body.plan } } : {}),
        ...(body.first !== undefined ? { first: body.first } : {}),
      },
      authorization,
    );
    setLocation(response, `/releases/${releaseId}`);
    return { releaseId, eventIds: events.map((e) => e.id) };
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({ summary: 'Stop advancing a release until it is resumed' })
  pause(
    @Param('id') id: string,
    @Body() body: ReleaseReasonDto,
    @Principal() principal: AuthPrincipal,
  ) {
    return this.command(id, principal, (origin) => this.releases.pause(id, body.reason, origin));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({ summary: 'Resume a paused release (also clears a drift hold once fixed)' })
  resume(@Param('id') id: string, @Principal() principal: AuthPrincipal) {
    return this.command(id, principal, (origin) => this.releases.resume(id, origin));
  }

  @Post(':id/promote')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'Pass the current step now; with full, skip the remaining canary steps',
  })
  promote(
    @Param('id') id: string,
    @Body() body: ReleasePromoteDto,
    @Principal() principal: AuthPrincipal,
  ) {
    return this.command(id, principal, (origin) =>
      this.releases.promote(id, body.full ?? false, origin),
    );
  }

  @Post(':id/abort')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({
    summary: 'Abort a release: traffic goes back to the stable version',
    description:
      '409 when the stable build breaks an API a live consumer already uses (policy refuse), unless force: true',
  })
  abort(
    @Param('id') id: string,
    @Body() body: ReleaseAbortDto,
    @Principal() principal: AuthPrincipal,
  ) {
    return this.command(id, principal, (origin) =>
      this.releases.abort(id, body.reason, origin, body.force ?? false),
    );
  }

  private async command(
    id: string,
    principal: AuthPrincipal,
    run: (origin: { actor: string; causationId: null }) => Promise<{ id: string }[]>,
  ): Promise<CommandAcceptedDto> {
    const release = await this.releases.get(id);
    assertMayTouchService(principal, release.service);
    const events = await run({ actor: principal.actor, causationId: null });
    return { releaseId: id, eventIds: events.map((e) => e.id) };
  }

  @Get(':id')
  @ApiOkResponse({ type: ReleaseResponseDto })
  async get(@Param('id') id: string): Promise<ReleaseResponseDto> {
    return ReleaseResponseDto.from(await this.releases.get(id));
  }

  @Get()
  @ApiQuery({ name: 'service', required: false })
  @ApiOkResponse({ type: [ReleaseResponseDto] })
  async list(@Query('service') service?: string): Promise<ReleaseResponseDto[]> {
    return (await this.releases.list(service)).map(ReleaseResponseDto.from);
  }
}
