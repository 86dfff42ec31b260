export * from './port';
export {
  validateRouteTable,
  fullWeights,
  normalizedTable,
  isHeaderName,
  isServiceName,
} from './route-table';
export { DEFAULT_CONFIRM_TIMEOUT_MS, routeMismatches } from './confirmation';
export { DataPlaneRegistry } from './registry';
export type { DataPlaneFactory } from './registry';
export { defaultDataPlaneRegistry } from './default-registry';
export { toRouteAppliedV1 } from './route-applied';

export {
  EMBEDDED_KIND,
  EmbeddedProxyDataPlane,
  startEmbeddedProxy,
} from './embedded/embedded-proxy';
export type {
  EmbeddedProxyOptions,
  SimulatedAnswer,
  SimulatedOutcome,
} from './embedded/embedded-proxy';
export { LATENCY_BUCKET_BOUNDS_MS, diffTrafficStats } from './embedded/traffic-stats';
export type {
  LatencyHistogram,
  GroupTrafficStats,
  ServiceTrafficStats,
} from './embedded/traffic-stats';
export { STICKY_BUCKETS, groupForBucket, stickyBucket } from './embedded/group-picker';

export { HAPROXY_KIND, HaproxyDataPlane, startHaproxy } from './haproxy/haproxy-data-plane';
export type { HaproxyOptions, HaproxyServiceOptions } from './haproxy/haproxy-data-plane';
export { HAPROXY_MAX_SERVER_WEIGHT, serverWeightsByGroup } from './haproxy/server-weights';
export { renderHaproxyConfig } from './haproxy/config';
