import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { EventValidationError } from '@rollgate/contracts';
import { DomainError } from '@rollgate/event-sourcing';
import { ConcurrencyConflictError } from '@rollgate/persistence';

/** The body of every error response. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown[];
}

/**
 * Every error leaves as `{ statusCode, error, message, details? }`. Unexpected errors are answered
 * with a generic 500 (internals never reach the client) and logged with their stack the first
 * time; repeats of the same error are counted, so a client hammering one bug cannot flood the log.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');
  private readonly seen = new RepeatCounter(MAX_DISTINCT_ERRORS);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<unknown>();
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) this.logUnexpected(exception);
    const adapter = this.adapterHost.httpAdapter;
    if (body.statusCode === 401) adapter.setHeader(response, 'WWW-Authenticate', 'Bearer');
    adapter.reply(response, body, body.statusCode);
  }

  private logUnexpected(exception: unknown): void {
    const text =
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
    const count = this.seen.count(text);
    if (count === 1) this.logger.error(text);
    else if (isPowerOfTen(count)) {
      this.logger.error(`${text.split('\n')[0]} (seen ${count} times)`);
    }
  }
}

const MAX_DISTINCT_ERRORS = 1000;
const isPowerOfTen = (n: number): boolean => Number.isInteger(Math.log10(n));

/** Occurrences per key; the oldest key is forgotten once `capacity` distinct keys were seen. */
export class RepeatCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  count(key: string): number {
    const next = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, next);
    if (this.counts.size > this.capacity) this.counts.delete(this.counts.keys().next().value!);
    return next;
  }
}

/**
 * The client errors of Express's body parser (http-errors with `expose`): too large (413),
 * unsupported charset or Content-Encoding (415), a body that does not decompress (400).
 */
function clientErrorOf(exception: unknown): { statusCode: number; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { expose, status } = exception as { expose?: unknown; status?: unknown };
  if (expose !== true || typeof status !== 'number' || status < 400 || status > 499) {
    return undefined;
  }
  return { statusCode: status, message: exception.message };
}

export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    const body: ErrorBody = {
      statusCode,
      error: statusText(statusCode),
      message: exception.message,
    };
    if (typeof response === 'object' && response !== null) {
      const { message, details } = response as { message?: unknown; details?: unknown };
      if (typeof message === 'string') body.message = message;
      // Nest's own pipes report several problems as an array of strings.
      if (Array.isArray(message)) body.message = message.map(String).join('; ');
      if (Array.isArray(details)) body.details = details;
    }
    return body;
  }
  if (exception instanceof DomainError) {
    const statusCode = DOMAIN_STATUS[exception.code];
    const body: ErrorBody = {
      statusCode,
      error: statusText(statusCode),
      message: exception.message,
    };
    if (Object.keys(exception.details).length > 0) body.details = [exception.details];
    return body;
  }
  if (exception instanceof ConcurrencyConflictError) {
    return {
      statusCode: 409,
      error: statusText(409),
      message: `${exception.message}: retry the request`,
    };
  }
  const clientError = clientErrorOf(exception);
  if (clientError) return { ...clientError, error: statusText(clientError.statusCode) };
  // A command produced an event that breaks its contract: the input passed the DTO but not the schema.
  if (exception instanceof EventValidationError) {
    return {
      statusCode: 400,
      error: statusText(400),
      message: 'validation failed',
      details: [{ field: exception.field.replace(/^data\./, ''), problem: exception.problem }],
    };
  }
  return { statusCode: 500, error: statusText(500), message: 'internal error' };
}

const DOMAIN_STATUS: Record<DomainError['code'], number> = {
  conflict: 409,
  'not-found': 404,
  invalid: 400,
  forbidden: 403,
};

const statusText = (statusCode: number): string => STATUS_CODES[statusCode] ?? 'Error';
