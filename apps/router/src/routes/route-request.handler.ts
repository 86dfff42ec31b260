import type { EntityManager } from 'typeorm';
import {
  TOPICS,
  type EventEnvelope,
  type NewEvent,
  type RouteApplyFailedV1,
  type RouteAppliedV1,
  type RouteChangeRequestedV1,
} from '@rollgate/contracts';
import type { DataPlane, GroupBackends, RouteTable } from '@rollgate/data-planes';
import type { EventStore, Projection } from '@rollgate/persistence';
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

/**
 * Turns RouteChangeRequested into data-plane changes, and answers each request once with
 * RouteApplied (only after the data plane confirmed by reading its state back) or RouteApplyFailed.
 * The answer, the route row and the checkpoint commit together: a redelivered request is a no-op.
 */
export class RouteRequestHandler implements Projection {
  readonly name = 'route-requests';
  readonly topics = [TOPICS.routing.name];

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly eventStore: EventStore,
  ) {}

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (event.type !== 'RouteChangeRequested') return;
    const request = event.data as RouteChangeRequestedV1;
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
      const applied = await this.dataPlane.apply(routeTableOf(request));
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
        dataPlane: this.dataPlane.kind,
        reason: error instanceof Error ? error.message : String(error),
      };
      answer = { ...origin, type: 'RouteApplyFailed', version: 1, data };
    }
    await this.eventStore.appendInTransaction(manager, streamId, history.length, [answer]);
  }
}
