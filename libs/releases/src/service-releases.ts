import type {
  ArtifactRef,
  EventEnvelope,
  NewEvent,
  ReleaseAbortedV1,
  ReleaseRequestedV1,
  ReleaseStrategy,
} from '@rollgate/contracts';
import { DomainError, type Aggregate, type Decision } from '@rollgate/event-sourcing';

/**
 * The releases of one service, as one stream: the stream is the unit of consistency, so
 * "one active release per service" is decided against a single, versioned state.
 */
export interface ServiceReleasesState {
  service: string | null;
  active: { releaseId: string; artifact: ArtifactRef } | null;
  releaseIds: string[];
}

export const serviceReleases: Aggregate<ServiceReleasesState> = {
  name: 'service-releases',
  initial: () => ({ service: null, active: null, releaseIds: [] }),
  evolve(state, event: EventEnvelope): ServiceReleasesState {
    switch (event.type) {
      case 'ReleaseRequested': {
        const data = event.data as ReleaseRequestedV1;
        return {
          service: data.service,
          active: { releaseId: data.releaseId, artifact: data.artifact },
          releaseIds: [...state.releaseIds, data.releaseId],
        };
      }
      case 'ReleaseAborted': {
        const data = event.data as ReleaseAbortedV1;
        return state.active?.releaseId === data.releaseId ? { ...state, active: null } : state;
      }
      default:
        return state;
    }
  },
};

export const serviceStreamId = (service: string) => `service:${service}`;

export interface RequestRelease {
  releaseId: string;
  service: string;
  artifact: ArtifactRef;
  strategy: ReleaseStrategy;
  actor: string;
  causationId: string | null;
}

export function decideRequestRelease(
  state: ServiceReleasesState,
  command: RequestRelease,
): Decision {
  if (state.active) {
    throw new DomainError(
      'conflict',
      `service ${command.service} already has an active release ${state.active.releaseId}`,
      { activeReleaseId: state.active.releaseId },
    );
  }
  const event: NewEvent<ReleaseRequestedV1> = {
    type: 'ReleaseRequested',
    version: 1,
    actor: command.actor,
    correlationId: command.releaseId,
    causationId: command.causationId,
    key: command.service,
    data: {
      releaseId: command.releaseId,
      service: command.service,
      artifact: command.artifact,
      strategy: command.strategy,
    },
  };
  return [event];
}

export interface AbortRelease {
  releaseId: string;
  service: string;
  reason: string;
  actor: string;
  causationId: string | null;
}

export function decideAbortRelease(state: ServiceReleasesState, command: AbortRelease): Decision {
  if (!state.releaseIds.includes(command.releaseId)) {
    throw new DomainError(
      'not-found',
      `release ${command.releaseId} does not exist on ${command.service}`,
    );
  }
  if (state.active?.releaseId !== command.releaseId) {
    throw new DomainError(
      'conflict',
      `release ${command.releaseId} is not active: nothing to abort`,
    );
  }
  const event: NewEvent<ReleaseAbortedV1> = {
    type: 'ReleaseAborted',
    version: 1,
    actor: command.actor,
    correlationId: command.releaseId,
    causationId: command.causationId,
    key: command.service,
    data: { releaseId: command.releaseId, service: command.service, reason: command.reason },
  };
  return [event];
}
