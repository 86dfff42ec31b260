import { SlotTable, slotName } from './slots';

/** One frontend + backend pair in haproxy.cfg. */
export interface HaproxyServiceConfig {
  service: string;
  /** The frontend's listening port. */
  port: number;
  /** Hash requests by this header (consistent hashing keeps weights changeable at runtime). */
  stickyHeader?: string;
  /** Exactly one `server` line per slot; free slots start disabled. */
  slots: SlotTable;
}

export interface HaproxyConfigInput {
  /** Unix socket of the Runtime API (admin level: weights, addresses, states). */
  socketPath: string;
  bindHost: string;
  services: HaproxyServiceConfig[];
  connectTimeoutMs?: number;
  serverTimeoutMs?: number;
}

export const frontendName = (service: string): string => `fe_${service}`;
export const backendName = (service: string): string => `be_${service}`;

/** The whole haproxy.cfg for a set of services. Pure: same input, same text. */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  return [
    globalSection(input.socketPath),
    defaultsSection(input),
    ...input.services.map((service) => serviceSections(service, input.bindHost)),
  ].join('\n');
}

function globalSection(socketPath: string): string {
  return lines(
    'global',
    `stats socket "${socketPath}" mode 600 level admin`,
    'stats timeout 30s',
    // Soft stop (SIGUSR1) lets requests in flight finish, but never for longer than this.
    'hard-stop-after 3s',
  );
}

function defaultsSection(input: HaproxyConfigInput): string {
  return lines(
    'defaults',
    'mode http',
    'option forwardfor',
    `timeout connect ${input.connectTimeoutMs ?? 2000}ms`,
    'timeout client 30s',
    `timeout server ${input.serverTimeoutMs ?? 30000}ms`,
    'timeout http-request 10s',
  );
}

function serviceSections(service: HaproxyServiceConfig, bindHost: string): string {
  const frontend = lines(
    `frontend ${frontendName(service.service)}`,
    `bind ${bindHost}:${service.port}`,
    `default_backend ${backendName(service.service)}`,
  );
  // roundrobin and consistent hashing are the algorithms whose weights change at runtime.
  const balance = service.stickyHeader
    ? [`balance hdr(${service.stickyHeader})`, 'hash-type consistent']
    : ['balance roundrobin'];
  const backend = lines(
    `backend ${backendName(service.service)}`,
    ...balance,
    ...service.slots.map((slot, index) =>
      slot
        ? `server ${slotName(index)} ${slot.instance.host}:${slot.instance.port} weight ${slot.weight}`
        : `server ${slotName(index)} 0.0.0.0:0 weight 0 disabled`,
    ),
  );
  return `${frontend}\n${backend}`;
}

function lines(section: string, ...settings: string[]): string {
  return [section, ...settings.map((setting) => `  ${setting}`), ''].join('\n');
}
