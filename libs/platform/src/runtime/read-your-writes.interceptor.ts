import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { from, lastValueFrom, switchMap, type Observable } from 'rxjs';
import {
  collectWrites,
  CONSISTENCY_HEADER,
  formatConsistencyToken,
  parseConsistencyToken,
} from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from './service-runtime';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const RETRY_AFTER_SECONDS = '1';

/**
 * Read-your-writes on every route (docs/adr/0008-read-your-writes.md):
 * - a write answers only once this service's read models show what it committed, with the
 *   write's consistency token in the `Rollgate-Consistency` header; if they do not catch up
 *   within ROLLGATE_CONSISTENCY_WAIT_MS it still answers (the write is committed) but with
 *   202 Accepted, meaning "done, not yet readable";
 * - a read that sends a token waits for it, or answers 503 with Retry-After.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  private readonly logger: Logger;

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {
    this.logger = new Logger(`${runtime.service}-consistency`);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const response = context.switchToHttp().getResponse<ServerResponse>();
    if (MUTATING.has(request.method ?? '')) return from(this.write(next, response));
    const header = request.headers[CONSISTENCY_HEADER.toLowerCase()];
    if (header === undefined) return next.handle();
    return from(this.awaitToken(String(header), response)).pipe(switchMap(() => next.handle()));
  }

  private async write(next: CallHandler, response: ServerResponse): Promise<unknown> {
    const { result, events } = await collectWrites(() =>
      lastValueFrom(next.handle(), { defaultValue: undefined }),
    );
    if (events.length === 0) return result;
    const consistency = this.runtime.readYourWrites;
    const deadline = Date.now() + this.runtime.config.consistencyWaitMs;
    const token = await consistency.tokenFor(events, deadline);
    if (token) response.setHeader(CONSISTENCY_HEADER, formatConsistencyToken(token));
    if (!token || !(await consistency.waitFor(token, deadline))) {
      this.logger.warn(
        `a write's read models did not catch up within ${this.runtime.config.consistencyWaitMs} ms: answering 202`,
      );
      response.statusCode = 202;
    }
    return result;
  }

  private async awaitToken(header: string, response: ServerResponse): Promise<void> {
    const token = parseConsistencyToken(header);
    if (!token) {
      throw new BadRequestException({
        message: 'validation failed',
        details: [
          {
            field: `header ${CONSISTENCY_HEADER}`,
            problem: 'must be the token a write answered with: topic:partition:offset[,...]',
          },
        ],
      });
    }
    const deadline = Date.now() + this.runtime.config.consistencyWaitMs;
    if (await this.runtime.readYourWrites.waitFor(token, deadline)) return;
    response.setHeader('Retry-After', RETRY_AFTER_SECONDS);
    throw new ServiceUnavailableException(
      `the read model has not caught up with ${CONSISTENCY_HEADER} yet: retry`,
    );
  }
}
