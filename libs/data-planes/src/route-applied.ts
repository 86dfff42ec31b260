import { RouteAppliedV1 } from '@rollgate/contracts';
import { AppliedRoute } from './port';

/** The RouteApplied event payload for a confirmed route: emit it only with what `apply` resolved. */
export function toRouteAppliedV1(applied: AppliedRoute): RouteAppliedV1 {
  return {
    service: applied.service,
    weights: { ...applied.weights },
    dataPlane: applied.dataPlane,
  };
}
