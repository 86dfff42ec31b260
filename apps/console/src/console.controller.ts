import {
  All,
  Controller,
  Delete,
  Get,
  Inject,
  type OnModuleDestroy,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { SERVICE_NAMES, type ServiceName } from '@rollgate/platform';
import { loadAssets, SHELL } from './assets';
import type { ConsoleConfig } from './console-config';
import {
  cookieValue,
  loadSessionKey,
  SESSION_COOKIE,
  sessionCookie,
  SessionSealer,
  type Session,
} from './sessions';
import {
  pageServices,
  summarizeServices,
  type ReleaseSummary,
  type ServiceRow,
} from './view/view-model';

export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Mutations through the console must carry this header: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-rollgate-console';

interface Answer {
  status: number;
  body: unknown;
}

/**
 * The console's server: the page, its assets, the sign-in, and a pass-through to the five
 * services' REST APIs with the signed-in token. It decides nothing: every action is the API's
 * call, and its refusal is passed back as it came.
 */
@ApiExcludeController()
@Controller()
export class ConsoleController implements OnModuleDestroy {
  private readonly assets = loadAssets();
  private readonly sessions: SessionSealer;
  /** Open event streams: ended when the app closes, or it would wait for the browsers forever. */
  private readonly streams = new Set<() => void>();

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {
    this.sessions = new SessionSealer(loadSessionKey(config.sessionKeyFile), config.sessionTtlMs);
  }

  onModuleDestroy(): void {
    for (const end of [...this.streams]) end();
  }

  @Get(['/', 'signin', 'releases', 'releases/:id', 'flags', 'migrations'])
  shell(@Res() res: Response): void {
    this.send(res, 200, 'text/html; charset=utf-8', SHELL);
  }

  @Get('health')
  health(@Res() res: Response): void {
    this.json(res, 200, { status: 'ok', service: 'console' });
  }

  @Get(['assets/:file', 'vendor/:file'])
  asset(@Req() req: Request, @Res() res: Response): void {
    const asset = this.assets.get(req.path);
    if (!asset) return void this.json(res, 404, { message: `no asset ${req.path}` });
    this.send(res, 200, asset.type, asset.body);
  }

  @Post('session')
  async signIn(@Req() req: Request, @Res() res: Response): Promise<void> {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.trim() === '') {
      return this.json(res, 400, {
        message: 'validation failed',
        details: [{ field: 'token', problem: 'a Rollgate token is required' }],
      });
    }
    const answer = await this.call('orchestrator', 'GET', '/auth/whoami', token.trim());
    if (answer.status !== 200) return this.json(res, answer.status, answer.body);
    const grant = answer.body as Session['grant'];
    const sealed = this.sessions.seal(token.trim(), grant);
    res.setHeader(
      'set-cookie',
      sessionCookie(sealed, req.secure, Math.floor(this.config.sessionTtlMs / 1000)),
    );
    this.json(res, 200, grant);
  }

  @Get('session')
  whoami(@Req() req: Request, @Res() res: Response): void {
    const session = this.session(req);
    if (!session) return this.json(res, 401, { message: 'not signed in' });
    this.json(res, 200, session.grant);
  }

  @Delete('session')
  signOut(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('set-cookie', sessionCookie('', req.secure, 0));
    this.json(res, 200, { signedOut: true });
  }

  /** One page of services, filtered on the server from GET /releases. */
  @Get('console/services')
  async services(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = this.requireSession(req, res);
    if (!session) return;
    const answer = await this.call('orchestrator', 'GET', '/releases', session.token);
    if (answer.status !== 200) return this.json(res, answer.status, answer.body);
    const rows: ServiceRow[] = summarizeServices(answer.body as ReleaseSummary[]);
    const query = req.query as Record<string, string | undefined>;
    this.json(
      res,
      200,
      pageServices(rows, {
        q: query['q'],
        status: query['status'],
        page: Number(query['page'] ?? 1),
        pageSize: Number(query['pageSize'] ?? 50),
      }),
    );
  }

  /** The REST API of one service, called with the session's token. */
  @All('api/:service/*path')
  async proxy(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = this.requireSession(req, res);
    if (!session) return;
    const service = req.params['service'] as ServiceName;
    if (!SERVICE_NAMES.includes(service)) {
      return this.json(res, 404, { message: `no service ${service}` });
    }
    if (req.method !== 'GET' && req.headers[CSRF_HEADER] !== '1') {
      return this.json(res, 403, { message: `a console request needs the ${CSRF_HEADER} header` });
    }
    const path = req.originalUrl.slice(`/api/${service}`.length);
    const answer = await this.call(
      service,
      req.method,
      path,
      session.token,
      req.method === 'GET' ? undefined : (req.body ?? {}),
    );
    this.json(res, answer.status, answer.body);
  }

  /**
   * Server-sent events of a release: its timeline as the log tells it, each entry with its
   * number as the event id. A reconnecting browser sends Last-Event-ID and gets what it missed;
   * when the services are down the stream says so and catches up once they are back.
   */
  @Get('live/releases/:id')
  liveRelease(@Req() req: Request, @Res() res: Response): void {
    const session = this.requireSession(req, res);
    if (!session) return;
    const id = encodeURIComponent(String(req.params['id']));
    let last = Number(req.headers['last-event-id'] ?? 0) || 0;
    this.stream(req, res, async (emit) => {
      const answer = await this.call(
        'orchestrator',
        'GET',
        `/releases/${id}/timeline`,
        session.token,
      );
      if (answer.status !== 200) return emit('status', { up: false, status: answer.status });
      const entries = (answer.body as { timeline: { n: number }[] }).timeline;
      for (const entry of entries) {
        if (entry.n > last) {
          last = entry.n;
          emit('timeline', entry, String(entry.n));
        }
      }
      emit('status', { up: true });
    });
  }

  /** Server-sent events of the releases list: `changed` whenever GET /releases changes. */
  @Get('live/releases')
  liveReleases(@Req() req: Request, @Res() res: Response): void {
    const session = this.requireSession(req, res);
    if (!session) return;
    let previous = '';
    let version = Number(req.headers['last-event-id'] ?? 0) || 0;
    this.stream(req, res, async (emit) => {
      const answer = await this.call('orchestrator', 'GET', '/releases', session.token);
      if (answer.status !== 200) return emit('status', { up: false, status: answer.status });
      const now = JSON.stringify(answer.body);
      if (previous !== '' && now !== previous)
        emit('changed', { at: Date.now() }, String(++version));
      previous = now;
      emit('status', { up: true });
    });
  }

  private stream(
    req: Request,
    res: Response,
    poll: (emit: (event: string, data: unknown, id?: string) => void) => Promise<void>,
  ): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    let lastStatus = '';
    const emit = (event: string, data: unknown, id?: string) => {
      const text = JSON.stringify(data);
      // Status lines only when they change; heartbeats keep proxies from closing the stream.
      if (event === 'status') {
        if (text === lastStatus) return;
        lastStatus = text;
      }
      res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${text}\n\n`);
    };
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const tick = async () => {
      if (closed) return;
      await poll(emit).catch(() => emit('status', { up: false }));
      if (!closed) timer = setTimeout(() => void tick(), this.config.livePollMs);
    };
    const end = () => {
      closed = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      this.streams.delete(end);
      res.end();
    };
    this.streams.add(end);
    req.on('close', end);
    void tick();
  }

  private session(req: Request): Session | undefined {
    return this.sessions.open(cookieValue(req.headers.cookie, SESSION_COOKIE));
  }

  private requireSession(req: Request, res: Response): Session | undefined {
    const session = this.session(req);
    if (!session) this.json(res, 401, { message: 'sign in with a Rollgate token first' });
    return session;
  }

  private async call(
    service: ServiceName,
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<Answer> {
    try {
      const response = await fetch(`${this.config.serviceUrls[service]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        parsed = { message: text.slice(0, 500) };
      }
      return { status: response.status, body: parsed };
    } catch (error) {
      return {
        status: 502,
        body: { message: `${service} is unreachable: ${(error as Error).message}` },
      };
    }
  }

  private json(res: Response, status: number, body: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  }

  private send(res: Response, status: number, type: string, body: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
    res.end(body);
  }
}
