import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  assertMayTouchService,
  Principal,
  RequireScopes,
  setLocation,
  type AuthPrincipal,
} from '@rollgate/platform';
import { MigrationAcceptedDto, MigrationLintDto, MigrationPlanDto } from './migration.dto';
import { MigrationsService } from './migrations.service';

@ApiTags('migrations')
@Controller('migrations')
export class MigrationsController {
  constructor(private readonly migrations: MigrationsService) {}

  @Post()
  @RequireScopes('migrate')
  @ApiOperation({
    summary: 'Record a migration plan',
    description:
      'Needs the migrate scope. The plan is checked for SQL safety, its target database and schema, then against the target catalog; 400 names each bad field.',
  })
  async plan(
    @Body() body: MigrationPlanDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<MigrationAcceptedDto> {
    // Parsed first, so a plan sent as text is held to the token's services like an object is.
    const plan = this.migrations.parse(body.plan);
    assertMayTouchService(principal, plan.service);
    const { migrationId, events } = await this.migrations.plan(
      { database: body.database, plan },
      { actor: principal.actor, causationId: null },
    );
    setLocation(response, `/migrations/${migrationId}`);
    return { migrationId, eventIds: events.map((e) => e.id) };
  }

  @Post('lint')
  @HttpCode(200)
  @RequireScopes('read')
  @ApiOperation({ summary: 'Check a plan or raw SQL for unsafe operations (Squawk-style rules)' })
  lint(@Body() body: MigrationLintDto) {
    return this.migrations.lint(body);
  }

  @Post(':id/start')
  @HttpCode(202)
  @RequireScopes('migrate')
  @ApiOperation({
    summary:
      'Expand, then migrate (triggers, backfill, validate, version schema) in the background',
    description: 'Also resumes a migration stopped by a crash or a failure, from where it stopped.',
  })
  start(@Param('id') id: string, @Principal() principal: AuthPrincipal) {
    return this.command(id, principal, (origin) => this.migrations.start(id, origin));
  }

  @Post(':id/complete')
  @HttpCode(200)
  @RequireScopes('migrate')
  @ApiOperation({
    summary: 'Contract: drop the old shape',
    description:
      '409 while any live instance of the service runs a version that needs the old schema; 503 when the fleet cannot be asked.',
  })
  complete(@Param('id') id: string, @Principal() principal: AuthPrincipal) {
    return this.command(id, principal, (origin) => this.migrations.complete(id, origin));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @RequireScopes('migrate')
  @ApiOperation({ summary: 'Undo expand and migrate (any phase before contract)' })
  rollback(@Param('id') id: string, @Principal() principal: AuthPrincipal) {
    return this.command(id, principal, (origin) => this.migrations.rollback(id, origin));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Status: phase, backfill progress per table, lock retries, last refusal or error',
  })
  get(@Param('id') id: string) {
    return this.migrations.status(id);
  }

  @Get()
  @ApiQuery({ name: 'service', required: false })
  async list(@Query('service') service?: string) {
    return (await this.migrations.list(service)).map((row) => ({
      id: row.id,
      service: row.service,
      status: row.status,
      plannedAt: row.plannedAt,
    }));
  }

  private async command(
    id: string,
    principal: AuthPrincipal,
    run: (origin: {
      actor: string;
      causationId: null;
    }) => Promise<{ migrationId: string; events: { id: string }[] }>,
  ): Promise<MigrationAcceptedDto> {
    const state = await this.migrations.load(id);
    assertMayTouchService(principal, state.service);
    const { events } = await run({ actor: principal.actor, causationId: null });
    return { migrationId: id, eventIds: events.map((e) => e.id) };
  }
}
