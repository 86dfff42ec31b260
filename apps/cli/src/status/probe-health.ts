export type ServiceState = 'up' | 'down' | 'unreachable';

export interface ServiceStatus {
  service: string;
  url: string;
  status: ServiceState;
  detail: string;
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
  const result = (status: ServiceState, detail: string): ServiceStatus => ({
    service,
    url: baseUrl,
    status,
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

function classifyHealth(
  service: string,
  httpStatus: number,
  body: HealthBody | undefined,
  result: (status: ServiceState, detail: string) => ServiceStatus,
): ServiceStatus {
  const checks = Object.entries(body?.details ?? {});
  if (httpStatus === 200 && body?.status === 'ok') {
    // The platform's built-in `service` check names who answered: catches a URL pointing at the wrong service.
    const answeredAs = body.details?.service?.name;
    if (typeof answeredAs === 'string' && answeredAs !== service) {
      return result('down', `answered as ${answeredAs}, expected ${service}`);
    }
    return result('up', `checks: ${checks.map(([name]) => name).join(', ') || 'none'}`);
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
