import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  EventEnvelope,
  NewEvent,
  RouteApplyFailedV1,
  RouteAppliedV1,
  RouteChangeRequestedV1,
} from '@rollgate/contracts';
import type { DataPlane, GroupBackends, RouteTable } from '@rollgate/data-planes';
import { EventStore } from '@rollgate/persistence';
import { readModelEvents, type EventLogContext } from '@rollgate/platform';
import { RouteEntity } from './route.entity';

export function routeTableOf(request: RouteChangeRequestedV1): RouteTable {
  const backends: GroupBackends = {};
  for (const backend of request.backends) {
    (backends[backend.group] ??= []).push({
      id: backend.instanceId,
      host: backend.host,
      port: backend.port,
    });
  }
  return {
    service: request.service,
    weights: request.weights,
    backends,
    ...(request.stickyHeader ? { sticky: { header: request.stickyHeader } } : {}),
  };
}

/** Injection token of the data plane this process started (DataPlaneHolder). */
export const CURRENT_DATA_PLANE = Symbol('CURRENT_DATA_PLANE');

export interface CurrentDataPlane {
  readonly dataPlane: DataPlane;
}

/**
 * Turns RouteChangeRequested into data-plane changes, and answers each request once with
 * RouteApplied (only after the data plane confirmed by reading its state back) or RouteApplyFailed.
 * The answer, the route row and the checkpoint commit together: a redelivered request is a no-op.
 */
@Controller()
export class RouteRequestHandler {
  constructor(
    @Inject(CURRENT_DATA_PLANE) private readonly current: CurrentDataPlane,
    private readonly eventStore: EventStore,
  ) {}

  @EventPattern(readModelEvents('route-requests', 'RouteChangeRequested'))
  async routeChangeRequested(
    @Payload() event: EventEnvelope<RouteChangeRequestedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const request = event.data;
    const manager = context.getManager();
    const dataPlane = this.current.dataPlane;
    const streamId = `route:${request.service}`;
    const history = await this.eventStore.load(streamId, manager);
    if (history.some((e) => (e.data as { requestId?: string }).requestId === request.requestId))
      return;
    const origin = {
      actor: 'service:router',
      correlationId: request.releaseId,
      causationId: event.id,
      key: request.service,
    };
    let answer: NewEvent;
    try {
      const applied = await dataPlane.apply(routeTableOf(request));
      const data: RouteAppliedV1 = {
        service: request.service,
        weights: applied.weights,
        dataPlane: applied.dataPlane,
        requestId: request.requestId,
        releaseId: request.releaseId,
      };
      answer = { ...origin, type: 'RouteApplied', version: 1, data };
      await manager.save(RouteEntity, {
        service: request.service,
        route: JSON.stringify(routeTableOf(request)),
        dataPlane: applied.dataPlane,
        requestId: request.requestId,
        appliedAt: event.occurredAt,
      });
    } catch (error) {
      const data: RouteApplyFailedV1 = {
        requestId: request.requestId,
        releaseId: request.releaseId,
        service: request.service,
        dataPlane: dataPlane.kind,
        reason: error instanceof Error ? error.message : String(error),
      };
      answer = { ...origin, type: 'RouteApplyFailed', version: 1, data };
    }
    await this.eventStore.appendInTransaction(manager, streamId, history.length, [answer]);
  }
}
