import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  DEFAULT_CONFIRM_TIMEOUT_MS,
  KeyedSerialQueue,
  routeMismatches,
  withTimeout,
} from '../confirmation';
import {
  AppliedRoute,
  BackendInstance,
  DataPlane,
  DataPlaneUnconfirmedError,
  Endpoint,
  RouteTable,
  VersionGroup,
} from '../port';
import { fullWeights, normalizedTable, validateRouteTable } from '../route-table';
import { forwardRequest } from './forward';
import { ActiveRoute } from './group-picker';
import { ServiceTrafficStats, TrafficRecorder } from './traffic-stats';

export const EMBEDDED_KIND = 'embedded';

export interface EmbeddedProxyOptions {
  /** Address every service listener binds to. Default `127.0.0.1`. */
  host?: string;
  /** Listening port per service; a missing service or 0 gets an ephemeral port (see `endpoint`). */
  ports?: Record<string, number>;
  /** Idle time on an instance's socket before the proxy answers 504. Default 30 s. */
  upstreamTimeoutMs?: number;
  /** How long `apply` may take to confirm. Default {@link DEFAULT_CONFIRM_TIMEOUT_MS}. */
  confirmTimeoutMs?: number;
}

/** What an instance answered one simulated request with. */
export interface SimulatedOutcome {
  status: number;
  latencyMs: number;
}

/** Asks `instance` for the outcomes of `count` requests at once (the simulated fleet). */
export type SimulatedAnswer = (
  instance: BackendInstance,
  count: number,
) => Promise<SimulatedOutcome[]>;

interface ServiceListener {
  readonly service: string;
  readonly server: http.Server;
  readonly traffic: TrafficRecorder;
  /** Replaced as a whole by `apply`; each request reads it exactly once. */
  route: ActiveRoute | undefined;
}

/**
 * The zero-dependency data plane: one Node HTTP listener per service that picks a version group
 * per request by weight (or by a sticky header), round-robins across the group's instances, and
 * counts requests, errors and latencies per group for the analysis.
 */
export class EmbeddedProxyDataPlane implements DataPlane {
  readonly kind = EMBEDDED_KIND;
  private readonly listeners = new Map<string, ServiceListener>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private readonly queue = new KeyedSerialQueue();
  private closed = false;

  constructor(private readonly options: EmbeddedProxyOptions = {}) {}

  apply(table: RouteTable): Promise<AppliedRoute> {
    try {
      validateRouteTable(table);
    } catch (error) {
      return Promise.reject(error);
    }
    const wanted = normalizedTable(table);
    const timeoutMs = this.options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
    // The queue waits for the work itself, so an apply that timed out cannot land after a later one.
    const work = this.queue.run(wanted.service, () => this.applyNow(wanted));
    return withTimeout(work, timeoutMs, () =>
      this.unconfirmed(wanted.service, `no confirmation within ${timeoutMs} ms`),
    );
  }

  async current(service: string): Promise<AppliedRoute | undefined> {
    if (this.closed) throw this.unconfirmed(service, 'the embedded proxy is closed');
    const listener = this.listeners.get(service);
    return listener?.route ? this.readBack(listener, listener.route) : undefined;
  }

  /** Cumulative traffic counters of a service, or undefined before its first `apply`. */
  stats(service: string): Promise<ServiceTrafficStats | undefined> {
    return Promise.resolve(this.listeners.get(service)?.traffic.snapshot());
  }

  /** Where the service's listener accepts requests, or undefined before its first `apply`. */
  endpoint(service: string): Endpoint | undefined {
    const listener = this.listeners.get(service);
    return listener ? this.boundEndpoint(listener) : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map(({ server }) => closeServer(server)));
    this.agent.destroy();
  }

  private async applyNow(table: RouteTable): Promise<AppliedRoute> {
    if (this.closed) throw this.unconfirmed(table.service, 'the embedded proxy is closed');
    const listener = await this.listenerFor(table.service);
    if (!listener.server.listening) {
      throw this.unconfirmed(table.service, 'the listener is not accepting');
    }
    // One assignment: a request that already read the old route finishes on it, the next one gets this.
    listener.route = new ActiveRoute(table);
    // Read back what requests will now read, rather than echo the table.
    const active = listener.route;
    const applied = this.readBack(listener, active);
    const mismatches = routeMismatches(table, applied);
    if (mismatches.length > 0) throw this.unconfirmed(table.service, mismatches.join('; '));
    return applied;
  }

  private readBack(listener: ServiceListener, route: ActiveRoute): AppliedRoute {
    const { table } = route;
    return {
      service: listener.service,
      dataPlane: this.kind,
      weights: fullWeights(table.weights),
      backends: structuredClone(table.backends),
      ...(table.sticky ? { sticky: { ...table.sticky } } : {}),
      endpoint: this.boundEndpoint(listener),
    };
  }

  private async listenerFor(service: string): Promise<ServiceListener> {
    const existing = this.listeners.get(service);
    if (existing) return existing;
    const listener: ServiceListener = {
      service,
      server: http.createServer(),
      traffic: new TrafficRecorder(service),
      route: undefined,
    };
    listener.server.on('request', (req, res) => this.handle(listener, req, res));
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.ports?.[service] ?? 0;
    await listen(listener.server, port, host).catch((error: Error) => {
      throw this.unconfirmed(service, `cannot listen on ${host}:${port}: ${error.message}`);
    });
    this.listeners.set(service, listener);
    return listener;
  }

  private handle(listener: ServiceListener, req: http.IncomingMessage, res: http.ServerResponse) {
    const route = listener.route; // read once: this request sees exactly one table
    if (!route) return answerJson(res, 503, { error: 'no_route', service: listener.service });
    const startedAt = process.hrtime.bigint();
    const group = route.chooseGroup(stickyValue(req, route.table.sticky?.header));
    const instance = route.chooseInstance(group);
    const target = { service: listener.service, group, instance };
    const upstreamTimeoutMs = this.options.upstreamTimeoutMs ?? 30_000;
    forwardRequest(req, res, target, { agent: this.agent, upstreamTimeoutMs }, (status) => {
      if (status === undefined) return; // the client left: no verdict on the instance
      const latencyMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      listener.traffic.record(group, latencyMs, status);
    });
  }

  /** Services whose route gives canary or baseline a share: those an analysis may be measuring. */
  servicesInAnalysis(): string[] {
    return [...this.listeners.values()]
      .filter(
        ({ route }) =>
          (route?.table.weights.canary ?? 0) + (route?.table.weights.baseline ?? 0) > 0,
      )
      .map(({ service }) => service);
  }

  /**
   * `users` requests of simulated users (ROLLGATE_FLEET=simulated, scale tests only), each choosing
   * its group and instance exactly as a real request does and counted in the same counters. Only
   * the transport is simulated: each chosen instance is asked once for the outcomes of all the
   * requests it got, instead of one HTTP exchange per request. An instance that cannot answer
   * counts its requests as 502, as a failed forward would.
   */
  async simulate(service: string, users: string[], answer: SimulatedAnswer): Promise<void> {
    const listener = this.listeners.get(service);
    const route = listener?.route;
    if (!listener || !route) return;
    const sticky = route.table.sticky?.header;
    const chosen = new Map<BackendInstance, { group: VersionGroup; count: number }>();
    for (const user of users) {
      const group = route.chooseGroup(sticky ? user : undefined);
      const instance = route.chooseInstance(group);
      const entry = chosen.get(instance) ?? { group, count: 0 };
      entry.count++;
      chosen.set(instance, entry);
    }
    await Promise.all(
      [...chosen].map(async ([instance, { group, count }]) => {
        const outcomes = await answer(instance, count).catch(() =>
          Array.from({ length: count }, () => ({ status: 502, latencyMs: 0 })),
        );
        for (const { status, latencyMs } of outcomes)
          listener.traffic.record(group, latencyMs, status);
      }),
    );
  }

  private boundEndpoint(listener: ServiceListener): Endpoint {
    const address = listener.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  private unconfirmed(service: string, reason: string): DataPlaneUnconfirmedError {
    return new DataPlaneUnconfirmedError(this.kind, service, reason);
  }
}

/** Starts an embedded proxy; services start listening on their first `apply`. */
export async function startEmbeddedProxy(
  options: EmbeddedProxyOptions = {},
): Promise<EmbeddedProxyDataPlane> {
  return new EmbeddedProxyDataPlane(options);
}

function stickyValue(req: http.IncomingMessage, header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = req.headers[header];
  const first = Array.isArray(value) ? value[0] : value;
  return first ? first : undefined;
}

function answerJson(res: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
