import http from 'node:http';
import { Endpoint } from '../port';

export interface Reply {
  status: number;
  /** Parsed JSON body (the test backends answer with their group and id). */
  body: Record<string, unknown>;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string;
  agent?: http.Agent;
}

export interface TrafficOptions {
  concurrency?: number;
  /** Headers of the request with this index (e.g. a user id). */
  headers?: (index: number) => http.OutgoingHttpHeaders;
}

/** One request through a data plane. */
export function request(endpoint: Endpoint, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: endpoint.host,
        port: endpoint.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers ?? {},
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: parseJson(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends `count` requests with bounded concurrency over kept-alive connections. */
export async function sendRequests(
  endpoint: Endpoint,
  count: number,
  options: TrafficOptions = {},
): Promise<Reply[]> {
  const concurrency = options.concurrency ?? 16;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const replies = new Array<Reply>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      replies[index] = await request(endpoint, { agent, headers: options.headers?.(index) });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return replies;
}

/** Percent of replies per value of `key` in the body (e.g. `group`). */
export function sharesBy(replies: Reply[], key: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const value = String(reply.body[key] ?? `status ${reply.status}`);
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return Object.fromEntries(
    Object.entries(counts).map(([value, n]) => [value, (n * 100) / replies.length]),
  );
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text };
  }
}
