import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  GroupBackends,
  InvalidRouteTableError,
  RouteTable,
} from '../port';
import {
  groupsWithBackends,
  isHeaderName,
  isServiceName,
  normalizedTable,
  validateRouteTable,
} from '../route-table';
import { backendName, renderHaproxyConfig } from './config';
import { HaproxyProcess, freePort, resolveHaproxyBinary } from './process';
import { HaproxyRuntimeApi } from './runtime-api';
import {
  addressChangeAccepted,
  addressCommands,
  readRoute,
  weightAndStateCommands,
} from './slot-commands';
import { SlotTable, planSlots } from './slots';
import { GroupTrafficAccounts } from './traffic-counters';
import type { ServiceTrafficStats } from '../embedded/traffic-stats';

export const HAPROXY_KIND = 'haproxy';

export interface HaproxyServiceOptions {
  service: string;
  /** Frontend port; missing or 0 takes a free port (see `endpoint`). */
  port?: number;
  /** `server` slots in the service's backend: the most instances it can have at once. Default 8. */
  slots?: number;
  /**
   * Sticky routing by this header, fixed in haproxy.cfg (`balance hdr()` + consistent hashing);
   * every table for the service must then name the same header, and tables without one are refused.
   */
  stickyHeader?: string;
  /** Written into haproxy.cfg, so the service routes from HAProxy's first request. */
  table?: RouteTable;
}

export interface HaproxyOptions {
  services: HaproxyServiceOptions[];
  /** Address the frontends bind to. Default `127.0.0.1`. */
  host?: string;
  /** Path of the haproxy executable. Default: `HAPROXY_BIN`, PATH, /usr/sbin. */
  binary?: string;
  /** Where haproxy.cfg and the admin socket live. Default: a fresh temp directory, removed on close. */
  workDir?: string;
  /** How long `apply` and each Runtime API call may take. Default {@link DEFAULT_CONFIRM_TIMEOUT_MS}. */
  confirmTimeoutMs?: number;
  /** How long haproxy may take to open its Runtime API. Default 10 s. */
  startTimeoutMs?: number;
}

interface ServiceRoute {
  readonly service: string;
  readonly endpoint: Endpoint;
  readonly capacity: number;
  readonly stickyHeader: string | undefined;
  /** The slot plan last sent to HAProxy; the read-back checks HAProxy against it. */
  slots: SlotTable;
  readonly traffic: GroupTrafficAccounts;
}

interface HaproxyParts {
  process: HaproxyProcess;
  api: HaproxyRuntimeApi;
  services: Map<string, ServiceRoute>;
  configPath: string;
  ownedWorkDir: string | undefined;
  confirmTimeoutMs: number;
}

/**
 * A real `haproxy` process with one frontend and one backend per service. Weights change through
 * the Runtime API (`set weight`), never by reload; instances move in and out of pre-declared
 * server slots (`set server ... addr/port`, `state ready|maint`). Every apply is read back with
 * `show servers state`.
 */
export class HaproxyDataPlane implements DataPlane {
  readonly kind = HAPROXY_KIND;
  private readonly queue = new KeyedSerialQueue();
  private closed = false;

  constructor(private readonly parts: HaproxyParts) {}

  /** PID of the haproxy process: it stays the same across applies (no reloads). */
  get pid(): number | undefined {
    return this.parts.process.pid;
  }

  get configPath(): string {
    return this.parts.configPath;
  }

  endpoint(service: string): Endpoint | undefined {
    return this.parts.services.get(service)?.endpoint;
  }

  /** As the port describes; backend hosts come back as the IP addresses HAProxy holds. */
  apply(table: RouteTable): Promise<AppliedRoute> {
    try {
      validateRouteTable(table);
    } catch (error) {
      return Promise.reject(error);
    }
    const wanted = normalizedTable(table);
    const timeoutMs = this.parts.confirmTimeoutMs;
    // The queue waits for the work itself, not for the caller's timeout, so an apply that gave up
    // waiting can never land after the next one (each Runtime API call has its own timeout).
    const work = this.queue.run(wanted.service, () =>
      this.guard(wanted.service, () => this.applyNow(wanted)),
    );
    return withTimeout(work, timeoutMs, () =>
      this.unconfirmed(wanted.service, `no confirmation within ${timeoutMs} ms`),
    );
  }

  /** Undefined for a service without a frontend in haproxy.cfg: it has no route (apply refuses it). */
  current(service: string): Promise<AppliedRoute | undefined> {
    return this.guard(service, async () => {
      if (!this.parts.services.has(service)) return undefined;
      const route = this.declared(service);
      if (route.slots.every((slot) => slot === undefined)) return undefined;
      return (await this.readBack(route)).applied;
    });
  }

  /** Cumulative responses and 5xx errors per group (no latency: HAProxy keeps no histograms). */
  stats(service: string): Promise<ServiceTrafficStats | undefined> {
    return this.guard(service, async () => {
      if (!this.parts.services.has(service)) return undefined;
      const route = this.declared(service);
      const counts = await this.parts.api.serverCounts(backendName(service));
      return route.traffic.snapshot(service, counts);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.parts.process.stop();
    if (this.parts.ownedWorkDir) {
      await rm(this.parts.ownedWorkDir, { recursive: true, force: true });
    }
  }

  private async applyNow(wanted: RouteTable): Promise<AppliedRoute> {
    const route = this.declared(wanted.service);
    this.checkSticky(route, wanted);
    const resolved = await withResolvedHosts(wanted);
    const next = planSlots(route.slots, resolved, route.capacity);
    const backend = backendName(route.service);
    const live = await this.parts.api.serversState(backend);
    // Slot counters while the old instances still hold their slots: the accounts move on them
    // once HAProxy confirms the change (an unconfirmed change leaves them where traffic went).
    const countsBefore = route.traffic.changes(next)
      ? await this.parts.api.serverCounts(backend)
      : undefined;
    // Record the intent before any command: if one fails, the read-back and the next apply
    // compare HAProxy against it, and the next apply re-sends whatever differs.
    route.slots = next;
    for (const command of addressCommands(backend, next, live)) {
      const answer = await this.parts.api.send(command);
      if (!addressChangeAccepted(answer)) {
        throw new Error(`HAProxy refused '${command}': ${answer.trim()}`);
      }
    }
    await this.parts.api.runSilent(weightAndStateCommands(backend, next));
    const { applied, problems } = await this.readBack(route);
    const mismatches = [...problems, ...routeMismatches(resolved, applied)];
    if (mismatches.length > 0) throw this.unconfirmed(route.service, mismatches.join('; '));
    if (countsBefore) route.traffic.move(next, countsBefore);
    return applied;
  }

  private async readBack(
    route: ServiceRoute,
  ): Promise<{ applied: AppliedRoute; problems: string[] }> {
    const live = await this.parts.api.serversState(backendName(route.service));
    const { weights, backends, problems } = readRoute(route.slots, live);
    const applied: AppliedRoute = {
      service: route.service,
      dataPlane: this.kind,
      weights,
      backends,
      ...(route.stickyHeader ? { sticky: { header: route.stickyHeader } } : {}),
      endpoint: route.endpoint,
    };
    return { applied, problems };
  }

  private declared(service: string): ServiceRoute {
    const route = this.parts.services.get(service);
    if (route) return route;
    const known = [...this.parts.services.keys()].join(', ') || 'none';
    throw this.unconfirmed(
      service,
      `no frontend for it in haproxy.cfg (declared: ${known}); declare it in options.services`,
    );
  }

  private checkSticky(route: ServiceRoute, wanted: RouteTable): void {
    const header = wanted.sticky?.header;
    if (header === route.stickyHeader) return;
    throw this.unconfirmed(
      route.service,
      `sticky header ${header ?? 'none'} differs from ${route.stickyHeader ?? 'none'} fixed in haproxy.cfg (changing it takes a restart)`,
    );
  }

  /** Turns any failure into "not confirmed", saying when it is because haproxy is gone. */
  private async guard<T>(service: string, work: () => Promise<T>): Promise<T> {
    try {
      if (this.closed) throw this.unconfirmed(service, 'the haproxy data plane is closed');
      if (!this.parts.process.running) throw new Error(this.parts.process.describeExit());
      return await work();
    } catch (error) {
      if (error instanceof DataPlaneUnconfirmedError || error instanceof InvalidRouteTableError) {
        throw error;
      }
      throw this.unconfirmed(service, this.explain(error));
    }
  }

  private explain(error: unknown): string {
    const reason = error instanceof Error ? error.message : String(error);
    // A refused socket usually means a dead process: say so, with haproxy's last words.
    const { process: haproxy } = this.parts;
    if (haproxy.running || reason.startsWith('haproxy exited')) return reason;
    return `${reason} (${haproxy.describeExit()})`;
  }

  private unconfirmed(service: string, reason: string): DataPlaneUnconfirmedError {
    return new DataPlaneUnconfirmedError(this.kind, service, reason);
  }
}

/** Writes haproxy.cfg, starts haproxy and confirms every initial table by reading it back. */
export async function startHaproxy(options: HaproxyOptions): Promise<HaproxyDataPlane> {
  const host = options.host ?? '127.0.0.1';
  const confirmTimeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
  const binary = options.binary ?? resolveHaproxyBinary();
  const services = await declareServices(options.services, host);
  const ownedWorkDir = options.workDir
    ? undefined
    : await mkdtemp(path.join(tmpdir(), 'rollgate-haproxy-'));
  const workDir = options.workDir ?? (ownedWorkDir as string);
  const configPath = path.join(workDir, 'haproxy.cfg');
  const api = new HaproxyRuntimeApi(path.join(workDir, 'admin.sock'), confirmTimeoutMs);
  try {
    await writeFile(configPath, configFor(services, api.socketPath, host));
    const haproxyProcess = await HaproxyProcess.start({
      binary,
      configPath,
      runtimeApi: api,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
    });
    const parts = { process: haproxyProcess, api, services, configPath, ownedWorkDir };
    const plane = new HaproxyDataPlane({ ...parts, confirmTimeoutMs });
    await confirmInitialTables(plane, options.services);
    return plane;
  } catch (error) {
    if (ownedWorkDir) await rm(ownedWorkDir, { recursive: true, force: true });
    throw error;
  }
}

function configFor(services: Map<string, ServiceRoute>, socketPath: string, bindHost: string) {
  return renderHaproxyConfig({
    socketPath,
    bindHost,
    services: [...services.values()].map((route) => ({
      service: route.service,
      port: route.endpoint.port,
      stickyHeader: route.stickyHeader,
      slots: route.slots,
    })),
  });
}

/** Re-applying the tables already in haproxy.cfg changes nothing and reads them back. */
async function confirmInitialTables(plane: HaproxyDataPlane, specs: HaproxyServiceOptions[]) {
  try {
    for (const spec of specs) if (spec.table) await plane.apply(spec.table);
  } catch (error) {
    await plane.close();
    throw error;
  }
}

async function declareServices(
  specs: HaproxyServiceOptions[],
  host: string,
): Promise<Map<string, ServiceRoute>> {
  const services = new Map<string, ServiceRoute>();
  for (const spec of specs) {
    checkServiceSpec(spec, services);
    const port = spec.port ? spec.port : await freePort(host);
    const capacity = spec.slots ?? 8;
    const stickyHeader = spec.stickyHeader?.toLowerCase();
    const empty: SlotTable = Array.from({ length: capacity }, () => undefined);
    const slots = spec.table
      ? planSlots(empty, await withResolvedHosts(normalizedTable(spec.table)), capacity)
      : empty;
    services.set(spec.service, {
      service: spec.service,
      endpoint: { host, port },
      capacity,
      stickyHeader,
      slots,
      traffic: new GroupTrafficAccounts(),
    });
  }
  return services;
}

function checkServiceSpec(spec: HaproxyServiceOptions, declared: Map<string, ServiceRoute>): void {
  if (!isServiceName(spec.service))
    throw new Error(`haproxy service name '${spec.service}' is not a valid service name`);
  if (declared.has(spec.service))
    throw new Error(`haproxy service '${spec.service}' is declared twice`);
  if (spec.slots !== undefined && (!Number.isInteger(spec.slots) || spec.slots < 1)) {
    throw new Error(`haproxy service '${spec.service}': slots must be a positive integer`);
  }
  if (spec.stickyHeader !== undefined && !isHeaderName(spec.stickyHeader)) {
    throw new Error(`haproxy service '${spec.service}': stickyHeader must be an HTTP header name`);
  }
  if (spec.table) {
    validateRouteTable(spec.table);
    if (spec.table.service !== spec.service) {
      throw new Error(`haproxy service '${spec.service}' has a table for '${spec.table.service}'`);
    }
  }
}

/** The table with every backend host replaced by an IP address (the Runtime API takes no names). */
async function withResolvedHosts(table: RouteTable): Promise<RouteTable> {
  const backends: GroupBackends = {};
  for (const [group, instances] of groupsWithBackends(table.backends)) {
    backends[group] = await Promise.all(instances.map(resolveInstance));
  }
  return { ...table, backends };
}

async function resolveInstance(instance: BackendInstance): Promise<BackendInstance> {
  if (isIP(instance.host)) return instance;
  const { address } = await lookup(instance.host);
  return { ...instance, host: address };
}
