import type { ServiceTrafficStats } from './embedded/traffic-stats';

/**
 * The data-plane port: the one interface the router uses to make traffic follow a route table,
 * whatever actually moves the packets (the embedded Node proxy, HAProxy, later Envoy or a
 * Kubernetes Gateway).
 */

/** Every version group a route table can weight. The order is the canonical order for output. */
export const VERSION_GROUPS = ['stable', 'baseline', 'canary', 'blue', 'green'] as const;

/** A set of instances that run the same version and play the same role in a release. */
export type VersionGroup = (typeof VERSION_GROUPS)[number];

/** One instance of a service that a data plane can send requests to. */
export interface BackendInstance {
  /** Unique within the route table, e.g. the fleet's instance id. */
  id: string;
  /** Host name or IP address. HAProxy needs an address, so its adapter resolves names first. */
  host: string;
  port: number;
}

/** Percent of requests per group: integers 0-100 that sum to 100; a missing group means 0. */
export type GroupWeights = Partial<Record<VersionGroup, number>>;

/** Instances per group. A group with a weight above 0 needs at least one instance. */
export type GroupBackends = Partial<Record<VersionGroup, BackendInstance[]>>;

/** Keep one user in one group: requests carrying the same value of this header land together. */
export interface Stickiness {
  /** Request header name, case-insensitive (e.g. `x-user-id`). */
  header: string;
}

/** What the router wants one service's traffic to look like. */
export interface RouteTable {
  /** Service name (the contracts' service name pattern). */
  service: string;
  weights: GroupWeights;
  backends: GroupBackends;
  /** Optional; requests without the header are spread by weight like any other. */
  sticky?: Stickiness;
}

/** Where clients send a service's requests. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * A route as the data plane reports it after reading its own state back. It is evidence, not an
 * echo of the request: `weights` are computed from what the data plane holds (for HAProxy, from
 * the live server weights).
 */
export interface AppliedRoute {
  service: string;
  /** The provider kind that confirmed it, e.g. `embedded` or `haproxy`. */
  dataPlane: string;
  /** All five groups, 0 for the ones that get no traffic. */
  weights: Record<VersionGroup, number>;
  backends: GroupBackends;
  sticky?: Stickiness;
  endpoint: Endpoint;
}

/**
 * A data plane routes each service's requests across version groups by weight.
 *
 * Contract shared by every provider:
 * - `apply` validates the table (an invalid one rejects with {@link InvalidRouteTableError} and
 *   changes nothing), hands it to the data plane and then reads the data plane's state back. It
 *   resolves only when the read-back matches the table; otherwise it rejects with
 *   {@link DataPlaneUnconfirmedError}: unreachable, refused, mismatching, or slower than the
 *   provider's confirm timeout (a few seconds by default). A rejection means "not confirmed":
 *   the change may or may not be live, so callers must hold and fall back to a safe table.
 * - Weight-only changes never restart or reload the data plane, and requests already in flight
 *   finish on the table they started with.
 * - Calls for one service are applied one at a time, in call order.
 * - `current` reads the data plane's state back (undefined when the service has no route yet).
 * - `close` stops routing and releases ports and processes; later calls reject.
 */
export interface DataPlane {
  /** Provider kind, the key of its factory in the {@link DataPlaneRegistry}. */
  readonly kind: string;
  apply(table: RouteTable): Promise<AppliedRoute>;
  current(service: string): Promise<AppliedRoute | undefined>;
  /**
   * Cumulative traffic per group since the data plane started, for providers that count it (the
   * analysis reads it); undefined for a service it has no route for yet.
   */
  stats?(service: string): Promise<ServiceTrafficStats | undefined>;
  close(): Promise<void>;
}

/** A route table that breaks a rule; `problems` names each broken rule. */
export class InvalidRouteTableError extends Error {
  override readonly name = 'InvalidRouteTableError';
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid route table for service '${service}': ${problems.join('; ')}`);
  }
}

/** The data plane could not confirm that it routes with the requested table. */
export class DataPlaneUnconfirmedError extends Error {
  override readonly name = 'DataPlaneUnconfirmedError';
  constructor(
    readonly dataPlane: string,
    readonly service: string,
    readonly reason: string,
  ) {
    super(`${dataPlane} could not confirm the route of service '${service}': ${reason}`);
  }
}
