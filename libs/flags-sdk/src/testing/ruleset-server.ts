import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RulesetDefinition } from '@rollgate/flags-domain';

/**
 * A real HTTP server that speaks the flags service's SDK interface, for tests and as a stand-in
 * in benchmarks:
 *   GET /flags/ruleset?project=… → 200 + ETag "<version>", or 304 for a matching If-None-Match
 *   POST /flags/:key/outcomes    → 202, keeping the body (what track() reported)
 *   GET /flags/stream?project=…  → text/event-stream; `event: ruleset` / `id: <version>` /
 *                                   `data: <json>`; nothing on connect when Last-Event-ID is
 *                                   current; `: ping` comments.
 * Tests drive it: publish a new version, drop streams, refuse streams, go down and come back.
 */
export interface RecordedRequest {
  readonly path: string;
  readonly project: string | null;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
}

export interface RulesetServerOptions {
  readonly port: number;
  readonly host?: string;
  /** Required bearer token; none when unset. */
  readonly token?: string;
  readonly pingIntervalMs?: number;
}

/** A report the SDK sent to POST /flags/:key/outcomes (guarded rollouts). */
export interface ReceivedOutcomes {
  readonly flagKey: string;
  readonly project: string | null;
  readonly body: unknown;
}

export class RulesetServer {
  readonly requests: RecordedRequest[] = [];
  readonly outcomes: ReceivedOutcomes[] = [];
  /** The status POST /flags/:key/outcomes answers with (202, as the service does). */
  outcomesStatus = 202;
  /** When false the stream answers 404, as a service without streaming would. */
  streamEnabled = true;
  /** When true the stream opens but never sends anything (a silently dead connection). */
  streamSilent = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<ServerResponse>();
  private current: RulesetDefinition;

  constructor(
    private readonly options: RulesetServerOptions,
    initial: Omit<RulesetDefinition, 'version'> & { version?: number },
  ) {
    this.current = { ...initial, version: initial.version ?? 1 };
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.options.port}`;
  }

  get version(): number {
    return this.current.version;
  }

  get ruleset(): RulesetDefinition {
    return this.current;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Goes down hard: every connection, streams included, is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const stream of this.streams) clearInterval(pingTimers.get(stream));
    this.streams.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A new version (version + 1 unless given), pushed to every open stream at once. */
  publish(change: Omit<RulesetDefinition, 'version'> & { version?: number }): number {
    this.current = { ...change, version: change.version ?? this.current.version + 1 };
    if (!this.streamSilent) for (const stream of this.streams) this.send(stream);
    return this.current.version;
  }

  /** Changes the ruleset without telling open streams (as if the event was lost with a drop). */
  replaceQuietly(change: Omit<RulesetDefinition, 'version'> & { version?: number }): number {
    this.current = { ...change, version: change.version ?? this.current.version + 1 };
    return this.current.version;
  }

  /** Ends every open stream cleanly; clients should reconnect and resume. */
  dropStreams(): void {
    for (const stream of this.streams) {
      clearInterval(pingTimers.get(stream));
      stream.end();
    }
    this.streams.clear();
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const record = (status: number) =>
      this.requests.push({
        path: url.pathname,
        project: url.searchParams.get('project'),
        headers: { ...request.headers },
        status,
      });
    if (this.options.token && request.headers.authorization !== `Bearer ${this.options.token}`) {
      record(401);
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'a bearer token with the read scope is required' }));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/flags/ruleset') {
      const etag = `"${this.current.version}"`;
      if (request.headers['if-none-match'] === etag) {
        record(304);
        response.writeHead(304, { etag });
        response.end();
        return;
      }
      record(200);
      response.writeHead(200, { 'content-type': 'application/json', etag });
      response.end(JSON.stringify(this.current));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/flags/stream') {
      if (!this.streamEnabled) {
        record(404);
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'no stream here' }));
        return;
      }
      record(200);
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      response.flushHeaders();
      this.streams.add(response);
      response.on('close', () => {
        clearInterval(pingTimers.get(response));
        this.streams.delete(response);
      });
      if (this.streamSilent) return;
      if (request.headers['last-event-id'] !== String(this.current.version)) this.send(response);
      const ping = setInterval(
        () => response.write(': ping\n\n'),
        this.options.pingIntervalMs ?? 15_000,
      );
      pingTimers.set(response, ping);
      return;
    }
    const outcomes = /^\/flags\/([^/]+)\/outcomes$/.exec(url.pathname);
    if (request.method === 'POST' && outcomes) {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        const status = this.outcomesStatus;
        record(status);
        if (status < 300) {
          this.outcomes.push({
            flagKey: decodeURIComponent(outcomes[1]!),
            project: url.searchParams.get('project'),
            body: JSON.parse(text) as unknown,
          });
        }
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ recorded: status < 300 }));
      });
      return;
    }
    record(404);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `no route ${request.method} ${url.pathname}` }));
  }

  private send(stream: ServerResponse): void {
    stream.write(
      `event: ruleset\nid: ${this.current.version}\ndata: ${JSON.stringify(this.current)}\n\n`,
    );
  }
}

const pingTimers = new WeakMap<ServerResponse, NodeJS.Timeout>();
