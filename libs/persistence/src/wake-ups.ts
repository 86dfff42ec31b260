import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** PostgreSQL truncates longer identifiers; a channel that long would not match its listeners. */
const MAX_CHANNEL_LENGTH = 63;
const RECONNECT_MS = 1_000;

/**
 * The wake-up channel of a service's tables and a topic (`<schema>_<topic>`): every replica of a
 * service shares its schema, so they share the channel; another installation has another schema.
 * Null on SQLite (one process: nobody else to wake) or when the name would be too long.
 */
export function wakeUpChannel(
  options: DataSource['options'] | EntityManager['connection']['options'],
  topic: string,
): string | null {
  if (options.type !== 'postgres') return null;
  const channel = `${options.schema ?? 'public'}_${topic}`;
  return channel.length <= MAX_CHANNEL_LENGTH ? channel : null;
}

/**
 * Wakes the listeners of `channel` when the transaction of `manager` commits (PostgreSQL
 * NOTIFY is delivered at commit, never for a rollback). A hint only: whoever listens still
 * reads the committed state, and looks periodically anyway in case a hint was missed.
 */
export async function wakeUpOnCommit(
  manager: EntityManager,
  topic: string,
  payload: string,
): Promise<void> {
  const channel = wakeUpChannel(manager.connection.options, topic);
  if (channel) await manager.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

/**
 * LISTENs on a channel over its own connection and hands each payload to `onWakeUp`. A lost
 * connection is opened again after a second; hints sent meanwhile are lost, which the
 * listener's periodic look covers.
 */
export class WakeUpListener {
  private client: Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onWakeUp: (payload: string) => void,
    private readonly onProblem: (message: string) => void = () => undefined,
  ) {}

  /** Resolves once listening, or once the first attempt failed (it retries in the background). */
  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    this.client = client;
    const reopen = (why: string) => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.onProblem(`wake-ups on ${this.channel} lost (${why}); listening again shortly`);
      this.retry = setTimeout(() => void this.start(), RECONNECT_MS);
      this.retry.unref();
    };
    client.on('error', (error) => reopen(error.message));
    client.on('end', () => reopen('connection ended'));
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.onWakeUp(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch (error) {
      reopen((error as Error).message);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }
}
