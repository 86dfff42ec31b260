import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_PROJECT } from '@rollgate/flags-domain/project';
import { Principal, RequireScopes, setLocation, type AuthPrincipal } from '@rollgate/platform';
import {
  DefinitionUpdateDto,
  EnvironmentConfigDto,
  EvaluateDto,
  ExtendDto,
  FlagCommandAcceptedDto,
  FlagCreateDto,
  GuardedRolloutDto,
  KillDto,
  OutcomesDto,
  ProjectCreateDto,
  RetireDto,
  RolloutDto,
  SegmentDto,
} from './flags.dto';
import { FlagsService } from './flags.service';
import { GuardedRolloutService } from './guarded-rollout.service';
import { RulesetFeed, type ProjectSnapshot } from './ruleset-feed';
import type { FlagSummaryEntity } from './flag.entity';

/** SSE keep-alive: proxies close idle connections, and a dead client is noticed on write. */
const PING_INTERVAL_MS = 15_000;

const projectOf = (project: string | undefined) => project || DEFAULT_PROJECT;

@ApiTags('flags')
@Controller('flags')
export class FlagsController {
  constructor(
    private readonly flags: FlagsService,
    private readonly feed: RulesetFeed,
    private readonly ramps: GuardedRolloutService,
  ) {}

  // ---- SDK-facing --------------------------------------------------------------------------------

  @Get('ruleset')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: "A project's ruleset, for SDKs (ETag = version; If-None-Match gives 304)",
  })
  async ruleset(
    @Query('project') project: string | undefined,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const snapshot = await this.flags.snapshot(projectOf(project));
    const etag = `"${snapshot.definition.version}"`;
    const headers = { ETag: etag, 'Cache-Control': 'no-cache' };
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers).end();
      return;
    }
    response
      .writeHead(200, { ...headers, 'Content-Type': 'application/json; charset=utf-8' })
      .end(snapshot.json);
  }

  @Get('stream')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Server-sent events: `ruleset` (id = version) on connect and on every change',
    description:
      'Nothing is sent on connect when Last-Event-ID equals the current version; `: ping` every 15 s.',
  })
  async stream(
    @Query('project') project: string | undefined,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const name = projectOf(project);
    const first = await this.flags.snapshot(name); // 404 before the stream starts
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    response.socket?.setNoDelay(true);
    // Headers now: a client resuming at the current version must see the stream open at once.
    response.flushHeaders();
    const lastEventId = Number(request.headers['last-event-id']);
    let sent = Number.isInteger(lastEventId) ? lastEventId : -1;
    const send = (snapshot: ProjectSnapshot) => {
      if (snapshot.definition.version === sent) return;
      sent = snapshot.definition.version;
      response.write(`event: ruleset\nid: ${sent}\ndata: ${snapshot.json}\n\n`);
    };
    const stop = this.feed.listen(name, send);
    // Listening first, then reading, so a change in between is not lost.
    send((await this.feed.current(name)) ?? first);
    const ping = setInterval(() => response.write(': ping\n\n'), PING_INTERVAL_MS);
    const close = () => {
      clearInterval(ping);
      stop();
      untrack();
    };
    const untrack = this.feed.endOnShutdown(() => {
      close();
      response.end();
    });
    request.once('close', close);
  }

  @Post(':key/evaluate')
  @HttpCode(200)
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: 'Evaluate a flag for a context on the server: value, variant, reason and why',
    description: 'With `at` or `version`, with the ruleset as it was then (replay).',
  })
  async evaluate(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: EvaluateDto,
  ) {
    const result = await this.flags.evaluate(
      projectOf(project),
      key,
      body.environment,
      body.context ?? {},
      {
        ...(body.at !== undefined ? { at: body.at } : {}),
        ...(body.version !== undefined ? { version: body.version } : {}),
      },
    );
    return { value: result.enabled, ...result };
  }

  @Post(':key/outcomes')
  @HttpCode(202)
  @RequireScopes('ingest')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: 'SDKs report request outcomes per cohort (flag on / off) for guarded rollouts',
    description:
      'Stored under the step of the running guarded rollout; ignored (recorded: false) when none runs. Needs the ingest scope, and a token that may touch an owner service of the project.',
  })
  outcomes(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: OutcomesDto,
    @Principal() principal: AuthPrincipal,
  ) {
    const problems = body.cohorts
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.errors > c.requests)
      .map(({ i }) => ({ field: `cohorts.${i}.errors`, problem: 'must not exceed requests' }));
    if (problems.length > 0) {
      throw new BadRequestException({ message: 'validation failed', details: problems });
    }
    return this.ramps.record(projectOf(project), key, body, principal);
  }

  @Get('segments')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: "The project's segments (also in the ruleset)" })
  async segments(@Query('project') project: string | undefined) {
    return (await this.flags.snapshot(projectOf(project))).definition.segments ?? [];
  }

  // ---- commands ----------------------------------------------------------------------------------

  @Put('segments/:key')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: 'Create a segment or replace its constraints (rules refer to it by key)',
    description: '400 names the field of a bad constraint.',
  })
  defineSegment(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: SegmentDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.defineSegment(projectOf(project), key, body, principal);
  }

  // Before `:key` reads: `projects` is a route, not a flag key.
  @Get('projects')
  @RequireScopes('read')
  @ApiOperation({
    summary: 'The flag projects: environments, owner services, release blocking, flag count',
  })
  @ApiOkResponse({ description: 'Every project, by name (the default one always)' })
  projects() {
    return this.flags.projects();
  }

  @Post('projects')
  @RequireScopes('flags')
  @ApiOperation({
    summary: 'Create a project or change its settings (environments, release blocking)',
  })
  async configureProject(
    @Body() body: ProjectCreateDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<FlagCommandAcceptedDto> {
    const accepted = await this.flags.configureProject(body, principal);
    setLocation(response, `/flags?project=${encodeURIComponent(accepted.project)}`);
    return accepted;
  }

  @Post()
  @RequireScopes('flags')
  @ApiOperation({
    summary: 'Create a flag (off everywhere)',
    description: '409 when the name exists or was ever retired in the project.',
  })
  async create(
    @Body() body: FlagCreateDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<FlagCommandAcceptedDto> {
    const accepted = await this.flags.create(body, principal);
    setLocation(response, flagPath(accepted.project, accepted.key));
    return accepted;
  }

  @Put(':key/environments/:environment')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: "Replace a flag's rules in one environment",
    description:
      '400 names the field of an invalid rule. Turning the flag on is refused (409, naming the instances) while a live build of a service that reads it does not declare it, unless force with a reason.',
  })
  updateEnvironment(
    @Param('key') key: string,
    @Param('environment') environment: string,
    @Query('project') project: string | undefined,
    @Body() body: EnvironmentConfigDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.updateEnvironment(projectOf(project), key, environment, body, principal);
  }

  @Patch(':key')
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: 'Change owner, description or prerequisites (cycles refused)' })
  updateDefinition(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: DefinitionUpdateDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.updateDefinition(projectOf(project), key, body, principal);
  }

  @Post(':key/rollout')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: 'Set the percentage rollout in one environment' })
  rollout(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: RolloutDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.setRollout(projectOf(project), key, body, principal);
  }

  @Post(':key/kill')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: 'Kill switch: off in one environment, pushed to every SDK stream' })
  kill(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: KillDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.kill(projectOf(project), key, body.environment, body.reason, principal);
  }

  @Post(':key/retire')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: 'Archive a flag; its name can never be used again' })
  retire(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: RetireDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.retire(projectOf(project), key, body.reason, principal);
  }

  @Post(':key/extend')
  @HttpCode(200)
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({ summary: "Move a flag's expiry date (an expired flag stops blocking)" })
  extend(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: ExtendDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.flags.extend(projectOf(project), key, body.expiresAt, body.reason, principal);
  }

  @Post(':key/guarded-rollout')
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiOperation({
    summary: 'Start a guarded rollout: ramp the percentage, judged on flag-on vs flag-off outcomes',
    description:
      'Sets the first step now. Each step is judged (error rate, latency) on what SDKs report with track(): FAIL turns the rollout back to 0%, PASS moves on, no data holds. 409 when the flag is off or a ramp already runs.',
  })
  async startRamp(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Body() body: GuardedRolloutDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<FlagCommandAcceptedDto> {
    const accepted = await this.ramps.start(projectOf(project), key, body, principal);
    setLocation(
      response,
      flagPath(accepted.project, accepted.key, '/guarded-rollout', body.environment),
    );
    return accepted;
  }

  @Get(':key/guarded-rollout')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiQuery({ name: 'environment', required: true })
  @ApiOperation({
    summary: "The flag's latest guarded rollout in an environment, with its decisions",
  })
  rampStatus(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Query('environment') environment: string | undefined,
  ) {
    return this.ramps.status(projectOf(project), key, requiredEnvironment(environment));
  }

  @Delete(':key/guarded-rollout')
  @RequireScopes('flags')
  @ApiQuery({ name: 'project', required: false })
  @ApiQuery({ name: 'environment', required: true })
  @ApiQuery({ name: 'reason', required: false })
  @ApiOperation({ summary: 'Stop a running guarded rollout; the rollout stays where it is' })
  cancelRamp(
    @Param('key') key: string,
    @Query('project') project: string | undefined,
    @Query('environment') environment: string | undefined,
    @Query('reason') reason: string | undefined,
    @Principal() principal: AuthPrincipal,
  ): Promise<FlagCommandAcceptedDto> {
    return this.ramps.cancel(
      projectOf(project),
      key,
      requiredEnvironment(environment),
      reason || undefined,
      principal,
    );
  }

  // ---- read model --------------------------------------------------------------------------------

  @Get('stale')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false, description: 'Every project unless set' })
  @ApiOperation({ summary: 'Potentially stale and expired flags (raises their events first)' })
  stale(@Query('project') project: string | undefined) {
    return this.flags.stale(project || undefined);
  }

  // Public, like the orchestrator's reads: the orchestrator asks it on every release request.
  @Get('blocking')
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({
    name: 'flags',
    required: false,
    description: 'Flags the new build reads, a,b,c; default: what its live builds declare',
  })
  @ApiOperation({
    summary: 'Expired flags that block a new release of a service (projects that ask for it)',
  })
  blocking(@Query('service') service: string, @Query('flags') flags: string | undefined) {
    if (!service) {
      throw new BadRequestException({
        message: 'validation failed',
        details: [{ field: 'service', problem: 'required: /flags/blocking?service=<name>' }],
      });
    }
    const declared =
      flags === undefined
        ? undefined
        : flags
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean);
    return this.flags.blocking(service, declared);
  }

  @Get()
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  @ApiQuery({ name: 'retired', required: false, description: 'true: include retired flags' })
  @ApiOkResponse({ description: 'Flags of the project, by key' })
  async list(@Query('project') project: string | undefined, @Query('retired') retired?: string) {
    const rows = await this.flags.list(projectOf(project), retired === 'true');
    return rows.map(toFlagView);
  }

  @Get(':key')
  @RequireScopes('read')
  @ApiQuery({ name: 'project', required: false })
  async get(@Param('key') key: string, @Query('project') project: string | undefined) {
    return toFlagView(await this.flags.get(projectOf(project), key));
  }
}

/** Where a flag (or one of its parts) is read: `/flags/KEY[/part]?project=P[&environment=E]`. */
function flagPath(project: string, key: string, part = '', environment?: string): string {
  const query = new URLSearchParams({ project, ...(environment ? { environment } : {}) });
  return `/flags/${encodeURIComponent(key)}${part}?${query.toString()}`;
}

function toFlagView(row: FlagSummaryEntity) {
  return {
    project: row.project,
    key: row.key,
    type: row.type,
    owner: row.owner,
    description: row.description,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    potentiallyStaleAt: row.potentiallyStaleAt,
    enabledIn: row.enabledIn ? row.enabledIn.split(',') : [],
    retired: row.retired,
    retiredAt: row.retiredAt,
    version: row.version,
    definition: JSON.parse(row.definition) as unknown,
  };
}

function requiredEnvironment(environment: string | undefined): string {
  if (!environment) {
    throw new BadRequestException({
      message: 'validation failed',
      details: [{ field: 'environment', problem: 'required: ?environment=<name>' }],
    });
  }
  return environment;
}

/** If-None-Match may list several tags, weak or strong. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}
