/**
 * A server-sent events parser (the WHATWG "event stream interpretation"), fed text as it arrives.
 * Small on purpose: the SDK needs `event`, `data`, `id` and comments, and must survive lines cut
 * anywhere by the network, including between the `\r` and `\n` of one line ending.
 */

export interface ServerSentEvent {
  /** "message" unless the server named it. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen on the stream so far (ids persist across events, as in browsers). */
  readonly id: string;
}

export interface SseHandlers {
  readonly onEvent: (event: ServerSentEvent) => void;
  /** Comment lines (`: ping`): proof that the connection is alive. */
  readonly onComment?: (text: string) => void;
  /** A `retry:` field: the reconnection delay the server asks for, in milliseconds. */
  readonly onRetry?: (milliseconds: number) => void;
}

export class SseParser {
  private buffer = '';
  /** The previous chunk ended with `\r`: a `\n` starting the next chunk belongs to that line end. */
  private pendingCarriageReturn = false;
  private eventType = '';
  private data: string[] = [];
  private lastEventId = '';
  private sawByteOrderMark = false;

  constructor(private readonly handlers: SseHandlers) {}

  push(chunk: string): void {
    let text = chunk;
    if (!this.sawByteOrderMark && text.length > 0) {
      this.sawByteOrderMark = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.pendingCarriageReturn = false;
    // What is already buffered holds no line end, so the search resumes after it (a large
    // ruleset arriving in many chunks is scanned once, not once per chunk).
    let searchFrom = this.buffer.length;
    this.buffer += text;

    let start = 0;
    for (;;) {
      const end = lineEnd(this.buffer, Math.max(start, searchFrom));
      searchFrom = 0;
      if (end === -1) break;
      this.line(this.buffer.slice(start, end));
      const terminator = this.buffer.charCodeAt(end);
      if (terminator === CR) {
        if (end + 1 === this.buffer.length) {
          this.pendingCarriageReturn = true;
          start = end + 1;
          break;
        }
        start = this.buffer.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The id to send as Last-Event-ID when reconnecting. */
  get lastId(): string {
    return this.lastEventId;
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.handlers.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored, as the standard says
    }
  }

  private dispatch(): void {
    const type = this.eventType;
    const data = this.data;
    this.eventType = '';
    this.data = [];
    if (data.length === 0) return; // an event without data is not dispatched
    this.handlers.onEvent({
      event: type || 'message',
      data: data.join('\n'),
      id: this.lastEventId,
    });
  }
}

const CR = 13;
const LF = 10;

function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF || code === CR) return i;
  }
  return -1;
}
