import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { EventEnvelope } from '@rollgate/contracts';
import type { EventLog, LoggedEvent } from '@rollgate/event-log';
import type { EventPublisher } from '@rollgate/persistence';

/** The one pattern the client emits: these committed events, appended in order. */
export const APPEND_EVENTS = 'rollgate.append';

/**
 * Publishing on the event-log port as a Nest ClientProxy. Commands still commit their events to
 * the outbox first (ADR 0004); the outbox relay publishes them through this client.
 */
export class EventLogClient extends ClientProxy implements EventPublisher {
  constructor(private readonly log: EventLog) {
    super();
  }

  async connect(): Promise<void> {}

  /** The log is closed by whoever opened it (one log is shared in embedded mode). */
  async close(): Promise<void> {}

  unwrap<T>(): T {
    return this.log as T;
  }

  /** Resolves once the log stored them, with their positions. */
  append(events: readonly EventEnvelope[]): Promise<LoggedEvent[]> {
    return lastValueFrom(this.emit<LoggedEvent[], readonly EventEnvelope[]>(APPEND_EVENTS, events));
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('the event log carries events: use emit'), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T>(packet: ReadPacket<readonly EventEnvelope[]>): Promise<T> {
    if (packet.pattern !== APPEND_EVENTS) {
      throw new Error(`the event-log client emits ${APPEND_EVENTS}, not ${String(packet.pattern)}`);
    }
    return (await this.log.append(packet.data)) as T;
  }
}
