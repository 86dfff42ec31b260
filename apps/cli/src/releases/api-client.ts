import type { CliContext } from '../context';

/** A failed API call, with the server's own message (never a stack trace). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

/** Minimal JSON-over-HTTP client for the Rollgate APIs. */
export async function callApi<T>(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  token: string | undefined,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ApiError(0, `cannot reach ${baseUrl}: ${(error as Error).message}`);
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    const details = Array.isArray(parsed['details']) ? (parsed['details'] as unknown[]) : [];
    throw new ApiError(response.status, String(parsed['message'] ?? response.statusText), details);
  }
  return parsed as T;
}

/** One line per problem: "field: problem". */
export function describeApiError(error: ApiError): string {
  const lines = [`error (${error.status || 'network'}): ${error.message}`];
  for (const detail of error.details) {
    const { field, problem } = detail as { field?: string; problem?: string };
    if (field) lines.push(`  ${field}: ${problem ?? ''}`);
  }
  return lines.join('\n');
}

/** Runs an API action; an API error becomes a readable message and exit code 1. */
export async function guarded(
  context: CliContext,
  setExitCode: (code: number) => void,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    context.output.err(`${describeApiError(error)}\n`);
    setExitCode(1);
  }
}
