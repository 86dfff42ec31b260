import { Agent, request } from 'node:http';
import type { ServedRequest } from './report';

/**
 * Which group each instance is in, as the data plane last said (GET /routes/:service, read a few
 * times a second). An answer from an instance the last read did not list yet (it was just routed)
 * gets its group from the next reads.
 */
export class RouteGroups {
  private groups = new Map<string, string>();
  private waiting: { request: ServedRequest; instanceId: string; reads: number }[] = [];

  update(backends: Record<string, { id: string }[]>): void {
    this.groups = new Map(
      Object.entries(backends).flatMap(([group, list]) => list.map((b) => [b.id, group] as const)),
    );
    const waiting = this.waiting;
    this.waiting = [];
    for (const entry of waiting) this.label(entry.request, entry.instanceId, entry.reads + 1);
  }

  /** Sets the request's group; `unknown` stays only for an instance two reads never listed. */
  label(request: ServedRequest, instanceId: string, reads = 0): void {
    const group = this.groups.get(instanceId);
    request.group = group ?? 'unknown';
    if (!group && reads < 2) this.waiting.push({ request, instanceId, reads });
  }
}

const TICK_MS = 10;
/** How long a user waits for an answer; a longer wait counts as a failed request. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Users the requests are spread over; the data plane keeps each one in one group. */
const USERS = 500;

/**
 * Synthetic users: an open-loop generator that sends `rps` requests a second through the data
 * plane whether or not earlier ones were answered (a slow build does not slow the users down),
 * and records who answered each one.
 */
export function startTraffic(
  target: { host: string; port: number },
  rps: number,
  groups: RouteGroups,
) {
  const served: ServedRequest[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let inFlight = 0;
  let sent = 0;
  let drained: (() => void) | undefined;
  const startedAt = Date.now();

  /** Instance → version, from the answers so far: a proxy error names the instance only. */
  const versionOf = new Map<string, string>();

  const send = () => {
    const user = `user-${sent++ % USERS}`;
    const sentAt = Date.now();
    inFlight++;
    let settled = false;
    const settle = (answer: Answer) => {
      // A timeout can surface on both the request and its response: count the request once.
      if (settled) return;
      settled = true;
      const instance = answer.instanceId;
      if (instance && answer.version) versionOf.set(instance, answer.version);
      const request: ServedRequest = {
        sentAt,
        answeredAt: Date.now(),
        version: answer.version ?? (instance ? (versionOf.get(instance) ?? null) : null),
        group: answer.group ?? null,
        failed: answer.failed,
      };
      if (instance && !answer.group) groups.label(request, instance);
      served.push(request);
      if (--inFlight === 0) drained?.();
    };
    const unanswered: Answer = { failed: true };
    const call = request(
      {
        host: target.host,
        port: target.port,
        path: '/cart',
        agent,
        headers: { 'x-user-id': user },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => settle(unanswered));
        response.on('end', () =>
          settle({
            ...parseBody(Buffer.concat(chunks).toString('utf8')),
            failed: (response.statusCode ?? 500) >= 500,
          }),
        );
      },
    );
    call.on('timeout', () => call.destroy(new Error('timeout')));
    call.on('error', () => settle(unanswered));
    call.end();
  };

  // Catches up after a late tick, so the rate holds over time even when the event loop is busy.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * rps);
    while (sent < due) send();
  }, TICK_MS);

  return {
    served,
    /** Stops sending and waits for the requests still in flight. */
    stop: async () => {
      clearInterval(timer);
      if (inFlight > 0) await new Promise<void>((done) => (drained = done));
      agent.destroy();
    },
  };
}

interface Answer {
  version?: string;
  instanceId?: string;
  /** Set when the data plane answered for an instance that failed (its 502 names the group). */
  group?: string;
  failed: boolean;
}

/** The sample service's answer names its version and instance; a proxy error its group and instance. */
function parseBody(text: string): Omit<Answer, 'failed'> {
  let body: Record<string, unknown>;
  try {
    body = (JSON.parse(text) ?? {}) as Record<string, unknown>;
  } catch {
    return {};
  }
  const field = (key: string) =>
    typeof body[key] === 'string' ? (body[key] as string) : undefined;
  const instanceId = field('instanceId') ?? field('instance');
  const version = field('version');
  const group = version ? undefined : field('group');
  return {
    ...(version ? { version } : {}),
    ...(instanceId ? { instanceId } : {}),
    ...(group ? { group } : {}),
  };
}
