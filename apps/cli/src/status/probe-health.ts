export type ServiceState = 'up' | 'degraded' | 'starting' | 'down' | 'unreachable';

export interface ServiceStatus {
  service: string;
  url: string;
  status: ServiceState;
  /** Events its consumers are behind the log end, summed ('-' when it did not say). */
  lag: string;
  /** Age of the oldest event a consumer has not processed yet ('-' when none or unknown). */
  oldest: string;
  detail: string;
}

/** What the event-log check reports per consumer (libs/persistence ConsumerLag). */
interface ConsumerLag {
  events?: unknown;
  oldestUnprocessedSeconds?: unknown;
}

export const PROBE_TIMEOUT_MS = 2000;

/** Terminus' /health body: every check by name with its status and detail. */
interface HealthBody {
  status?: string;
  details?: Record<string, { status?: string; [key: string]: unknown }>;
}

/** GET <baseUrl>/health and classify the answer; never throws. */
export async function probeHealth(
  service: string,
  baseUrl: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ServiceStatus> {
  const result = (status: ServiceState, detail: string, lag = NO_LAG): ServiceStatus => ({
    service,
    url: baseUrl,
    status,
    ...lag,
    detail,
  });
  let httpStatus: number;
  let body: HealthBody | undefined;
  try {
    const response = await fetch(`${baseUrl}/health`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
    httpStatus = response.status;
    body = (await response.json().catch(() => undefined)) as HealthBody | undefined;
  } catch (error) {
    return result('unreachable', describeFetchError(error, timeoutMs));
  }
  return classifyHealth(service, httpStatus, body, result);
}

const NO_LAG = { lag: '-', oldest: '-' };

/** Sum of the consumers' lag and the oldest unprocessed age, from the event-log check. */
function lagOf(body: HealthBody | undefined): { lag: string; oldest: string } {
  const reported = body?.details?.['event-log']?.['lag'] as Record<string, ConsumerLag> | undefined;
  if (!reported || typeof reported !== 'object') return NO_LAG;
  let events = 0;
  let oldest: number | undefined;
  for (const consumer of Object.values(reported)) {
    if (typeof consumer.events === 'number') events += consumer.events;
    if (typeof consumer.oldestUnprocessedSeconds === 'number')
      oldest = Math.max(oldest ?? 0, consumer.oldestUnprocessedSeconds);
  }
  return { lag: String(events), oldest: oldest === undefined ? '-' : `${oldest} s` };
}

function classifyHealth(
  service: string,
  httpStatus: number,
  body: HealthBody | undefined,
  result: (
    status: ServiceState,
    detail: string,
    lag?: { lag: string; oldest: string },
  ) => ServiceStatus,
): ServiceStatus {
  const checks = Object.entries(body?.details ?? {});
  const lag = lagOf(body);
  const serving = httpStatus === 200 && (body?.status === 'ok' || body?.status === 'degraded');
  if (serving) {
    // The platform's built-in `service` check names who answered: catches a URL pointing at the wrong service.
    const answeredAs = body?.details?.service?.name;
    if (typeof answeredAs === 'string' && answeredAs !== service) {
      return result('down', `answered as ${answeredAs}, expected ${service}`);
    }
    if (body?.status === 'degraded') {
      const limit = body.details?.['event-log']?.['maxLag'];
      return result(
        'degraded',
        `consumers behind the log by more than ${String(limit)} events`,
        lag,
      );
    }
    return result('up', `checks: ${checks.map(([name]) => name).join(', ') || 'none'}`, lag);
  }
  if (httpStatus === 503 && body?.status === 'starting') {
    return result('starting', 'consumers are joining their groups', lag);
  }
  const failing = checks.filter(([, check]) => check.status !== 'up');
  if (httpStatus === 503 && failing.length > 0) {
    const described = failing.map(([name, check]) =>
      typeof check.message === 'string' ? `${name} down (${check.message})` : `${name} down`,
    );
    return result('down', described.join('; '));
  }
  return result('down', `unexpected answer: HTTP ${httpStatus}`);
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  // Checked by name: AbortSignal's DOMException is not always an `instanceof Error`.
  if ((error as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  // undici reports network failures as TypeError('fetch failed') with the socket error as cause.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
