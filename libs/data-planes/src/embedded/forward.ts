import http from 'node:http';
import { BackendInstance, VersionGroup } from '../port';

// Headers that describe one connection, not the message; a proxy must not pass them on (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardTarget {
  service: string;
  group: VersionGroup;
  instance: BackendInstance;
}

export interface ForwardOptions {
  agent: http.Agent;
  /** Idle time on the instance's socket before the proxy gives up with 504. */
  upstreamTimeoutMs: number;
}

/** Copies end-to-end headers, dropping hop-by-hop ones and any the Connection header names. */
export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase());
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.includes(name)),
  );
}

function forwardedFor(req: http.IncomingMessage): string {
  const client = req.socket.remoteAddress ?? 'unknown';
  const previous = req.headers['x-forwarded-for'];
  return previous ? `${String(previous)}, ${client}` : client;
}

/** Answers 504 (timeout) or 502 for a failed instance; false when headers were already sent. */
function failureResponse(
  res: http.ServerResponse,
  target: ForwardTarget,
  error: Error,
  timedOut: boolean,
): boolean {
  if (res.headersSent) return false;
  const status = timedOut ? 504 : 502;
  const body = JSON.stringify({
    error: timedOut ? 'gateway_timeout' : 'bad_gateway',
    message: `instance ${target.instance.id} of ${target.service}/${target.group} failed: ${error.message}`,
    service: target.service,
    group: target.group,
    instance: target.instance.id,
  });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}

/**
 * How a forwarded request ended: the status the client got (a failure after the headers were sent
 * counts as 502), or undefined when the client went away first.
 */
export type ForwardOutcome = (status: number | undefined) => void;

/** Sends the request to the chosen instance and streams the response back to the client. */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: ForwardTarget,
  options: ForwardOptions,
  onOutcome: ForwardOutcome,
): void {
  let timedOut = false;
  let failedMidStream = false;
  const upstream = http.request({
    host: target.instance.host,
    port: target.instance.port,
    method: req.method,
    path: req.url,
    headers: { ...endToEndHeaders(req.headers), 'x-forwarded-for': forwardedFor(req) },
    agent: options.agent,
    timeout: options.upstreamTimeoutMs,
  });
  upstream.on('timeout', () => {
    timedOut = true;
    upstream.destroy(new Error(`no answer within ${options.upstreamTimeoutMs} ms`));
  });
  upstream.on('error', (error) => {
    if (res.destroyed || res.writableEnded) return; // the client left; nobody to answer
    if (failureResponse(res, target, error, timedOut)) return;
    failedMidStream = true;
    res.destroy();
  });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
    answer.pipe(res);
    answer.on('error', () => {
      failedMidStream = true;
      res.destroy();
    });
  });
  res.on('close', () => {
    if (res.writableFinished) return onOutcome(res.statusCode);
    // A client that goes away should not keep the instance busy.
    upstream.destroy();
    onOutcome(failedMidStream ? 502 : undefined);
  });
  req.pipe(upstream);
}
