import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Principal, RequireScopes, setLocation, type AuthPrincipal } from '@rollgate/platform';
import {
  AttemptResponseDto,
  DeliveryResponseDto,
  RedeliverAcceptedDto,
  ReplayAcceptedDto,
  SubscriptionAcceptedDto,
  SubscriptionCreateDto,
  SubscriptionRedeliverDto,
  SubscriptionReplayDto,
  SubscriptionResponseDto,
} from './subscription.dto';
import { SubscriptionsService } from './subscriptions.service';

/** `?limit=`: 1-1000, default 100; anything else is a 400 naming it. */
function limitOf(limit: string | undefined): number {
  if (limit === undefined) return 100;
  const value = Number(limit);
  if (!/^\d{1,4}$/.test(limit) || value < 1 || value > 1000)
    throw new BadRequestException({
      message: 'validation failed',
      details: [{ field: 'limit', problem: 'must be an integer from 1 to 1000' }],
    });
  return value;
}

/**
 * Webhook subscriptions. Every route needs `admin`: a subscription sends events of every service
 * it matches to a URL outside Rollgate (a token limited to services may only watch those).
 */
@ApiTags('subscriptions')
@Controller('subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @RequireScopes('admin')
  @ApiOperation({
    summary: 'Subscribe a URL to events: signed CloudEvents over HTTP, or Slack messages',
    description:
      'Events logged after the subscription is created are delivered, in order per key, at least once (a retry carries the same ce-id). The secret signs each delivery (rollgate-signature) and is never returned nor logged.',
  })
  async create(
    @Body() body: SubscriptionCreateDto,
    @Principal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<SubscriptionAcceptedDto> {
    const accepted = await this.subscriptions.create(body, principal);
    setLocation(response, `/subscriptions/${accepted.subscriptionId}`);
    return accepted;
  }

  @Get()
  @RequireScopes('admin')
  @ApiOkResponse({ type: [SubscriptionResponseDto] })
  async list(@Principal() principal: AuthPrincipal): Promise<SubscriptionResponseDto[]> {
    return (await this.subscriptions.list(principal)).map((s) => SubscriptionResponseDto.from(s));
  }

  @Get(':id')
  @RequireScopes('admin')
  @ApiOkResponse({ type: SubscriptionResponseDto })
  async get(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
  ): Promise<SubscriptionResponseDto> {
    const subscription = await this.subscriptions.get(id, principal);
    return SubscriptionResponseDto.from(
      subscription,
      await this.subscriptions.store.counts(subscription.id),
    );
  }

  @Delete(':id')
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Delete a subscription; its pending deliveries are cancelled' })
  delete(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
  ): Promise<SubscriptionAcceptedDto> {
    return this.subscriptions.delete(id, principal);
  }

  @Get(':id/deliveries')
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Every delivery attempt, newest first' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({ type: [AttemptResponseDto] })
  async attempts(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
    @Query('limit') limit?: string,
  ): Promise<AttemptResponseDto[]> {
    const count = limitOf(limit);
    const subscription = await this.subscriptions.get(id, principal);
    return (await this.subscriptions.store.attempts(subscription.id, count)).map(
      AttemptResponseDto.from,
    );
  }

  @Get(':id/dead-letters')
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Deliveries that ran out of attempts, oldest first' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({ type: [DeliveryResponseDto] })
  async deadLetters(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
    @Query('limit') limit?: string,
  ): Promise<DeliveryResponseDto[]> {
    const count = limitOf(limit);
    const subscription = await this.subscriptions.get(id, principal);
    return (await this.subscriptions.store.deliveries(subscription.id, 'dead', count)).map(
      DeliveryResponseDto.from,
    );
  }

  @Post(':id/redeliver')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({
    summary:
      'Send dead letters again (all, or the listed deliveryIds), with a fresh attempt budget',
  })
  redeliver(
    @Param('id') id: string,
    @Body() body: SubscriptionRedeliverDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<RedeliverAcceptedDto> {
    return this.subscriptions.redeliver(id, body.deliveryIds, principal);
  }

  @Post(':id/replay')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({
    summary: 'Queue again every matching event of the log from an offset or a time',
    description:
      'Exactly one of fromOffset (of every partition) and fromTime; topic limits it to one topic. Replayed events keep their ce-id.',
  })
  replay(
    @Param('id') id: string,
    @Body() body: SubscriptionReplayDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<ReplayAcceptedDto> {
    return this.subscriptions.replay(id, body, principal);
  }
}
