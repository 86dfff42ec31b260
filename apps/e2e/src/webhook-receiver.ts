import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '@rollgate/contracts';

/** One request a receiver got, as it got it. */
export interface Receipt {
  ceId: string;
  headers: IncomingMessage['headers'];
  body: string;
  signatureValid: boolean;
  /** The status the receiver chose (a delayed one may reach a client that gave up). */
  status: number;
}

export type Answer = (ceId: string, timesSeen: number) => { status: number; delayMs?: number };

/**
 * A real HTTP webhook receiver on a fixed port: it checks every signature, can fail or answer
 * slowly on purpose, and can go down and come back on the same port.
 */
export class WebhookReceiver {
  readonly receipts: Receipt[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(
    private readonly secret: string,
    private readonly answer: Answer = () => ({ status: 200 }),
    /** Where the CloudEvent id is: a header (binary), the body (structured), the Slack context. */
    private readonly idOf: (request: IncomingMessage, body: string) => string = (request) =>
      String(request.headers['ce-id']),
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/rollgate`;
  }

  async start(): Promise<void> {
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ceId = this.idOf(request, body);
        const seen = this.receipts.filter((r) => r.ceId === ceId).length;
        const { status, delayMs = 0 } = this.answer(ceId, seen);
        const header = request.headers['rollgate-signature'];
        this.receipts.push({
          ceId,
          headers: request.headers,
          body,
          signatureValid: verifyWebhookSignature({
            secret: this.secret,
            header: typeof header === 'string' ? header : undefined,
            body,
          }).valid,
          status,
        });
        setTimeout(() => response.writeHead(status).end(), delayMs);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: refuses connections (and drops open ones) until started again, on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** CloudEvent ids in the order they were first accepted (2xx). */
  accepted(): string[] {
    return [...new Set(this.receipts.filter((r) => r.status < 300).map((r) => r.ceId))];
  }
}
