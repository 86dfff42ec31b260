import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  assertMayTouchService,
  Principal,
  RequireScopes,
  type AuthPrincipal,
} from '@rollgate/platform';
import {
  CommandAcceptedDto,
  ReleaseAbortDto,
  ReleaseCreateDto,
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
    description: '409 names the active release when the service already has one.',
  })
  async create(
    @Body() body: ReleaseCreateDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<CommandAcceptedDto> {
    assertMayTouchService(principal, body.service);
    const { releaseId, events } = await this.releases.request({
      service: body.service,
      artifact: { name: body.artifact.name, digest: body.artifact.digest },
      strategy: body.strategy ?? 'canary',
      actor: principal.actor,
    });
    return { releaseId, eventIds: events.map((e) => e.id) };
  }

  @Post(':id/abort')
  @HttpCode(200)
  @RequireScopes('deploy')
  @ApiOperation({ summary: 'Abort an active release' })
  async abort(
    @Param('id') id: string,
    @Body() body: ReleaseAbortDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<CommandAcceptedDto> {
    const release = await this.releases.get(id);
    assertMayTouchService(principal, release.service);
    const { events } = await this.releases.abort(id, body.reason, principal.actor);
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
