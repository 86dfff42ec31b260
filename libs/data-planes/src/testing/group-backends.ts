import http from 'node:http';
import { AddressInfo } from 'node:net';
import { BackendInstance, RouteTable, VersionGroup } from '../port';

/** What a test backend answers with, so the test can see where a request landed. */
export interface BackendAnswer {
  group: VersionGroup;
  id: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestBackend extends BackendInstance {
  group: VersionGroup;
  /** Requests this backend has answered. */
  hits: number;
  close(): Promise<void>;
}

export interface TestBackendBehaviour {
  /** Status of every answer. Default 200. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** A real HTTP server on an ephemeral port that answers with its group and id (JSON). */
export async function startTestBackend(
  group: VersionGroup,
  id: string,
  behaviour: TestBackendBehaviour = {},
): Promise<TestBackend> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      backend.hits += 1;
      const answer: BackendAnswer = {
        group,
        id,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const reply = () => {
        res.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      };
      if (behaviour.delayMs) setTimeout(reply, behaviour.delayMs);
      else reply();
    });
  });
  // Longer than the proxies' idle reuse, so a pooled connection is never closed under a request.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const backend: TestBackend = {
    group,
    id,
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return backend;
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A route table over test backends, grouped by their version group. */
export function table(
  service: string,
  weights: RouteTable['weights'],
  backends: TestBackend[],
): RouteTable {
  const grouped: RouteTable['backends'] = {};
  for (const { group, id, host, port } of backends)
    (grouped[group] ??= []).push({ id, host, port });
  return { service, weights, backends: grouped };
}
