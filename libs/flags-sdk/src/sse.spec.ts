import { SseParser, type ServerSentEvent } from './sse';

function parse(chunks: string[]) {
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = new SseParser({
    onEvent: (event) => events.push(event),
    onComment: (text) => comments.push(text),
    onRetry: (ms) => retries.push(ms),
  });
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments, retries, lastId: parser.lastId };
}

describe('SseParser', () => {
  it('reads named events with ids, joins multi-line data and ignores unknown fields', () => {
    const { events, lastId } = parse([
      'event: ruleset\nid: 7\ndata: {"version":7}\n\n',
      'data: line one\ndata: line two\nfoo: bar\n\n',
    ]);
    expect(events).toEqual([
      { event: 'ruleset', id: '7', data: '{"version":7}' },
      { event: 'message', id: '7', data: 'line one\nline two' },
    ]);
    expect(lastId).toBe('7');
  });

  it('gives the same events however the network cuts the text, CRLF endings included', () => {
    const text =
      'event: ruleset\r\nid: 12\r\ndata: {"a":1}\r\n\r\n: ping\r\n\r\nevent: ruleset\rid: 13\rdata: x\r\r';
    const whole = parse([text]);
    expect(whole.events.map((event) => event.id)).toEqual(['12', '13']);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const pieces = parse(chunks);
      expect(pieces.events).toEqual(whole.events);
      expect(pieces.comments).toEqual(['ping']);
    }
  });

  it('reports comments and retry, strips one leading space only, and drops events without data', () => {
    const { events, comments, retries } = parse([
      ': ping\n\nretry: 1500\nretry: soon\n\nevent: empty\n\ndata:  two spaces\ndata\n\n',
    ]);
    expect(comments).toEqual(['ping']);
    expect(retries).toEqual([1500]);
    expect(events).toEqual([{ event: 'message', id: '', data: ' two spaces\n' }]);
  });

  it('skips a byte order mark and keeps the previous id when an id holds NUL', () => {
    const { events } = parse(['\ufeffid: 3\ndata: a\n\nid: bad\0id\ndata: b\n\n']);
    expect(events.map((event) => event.id)).toEqual(['3', '3']);
  });

  it('does not dispatch an event that has not been terminated by a blank line', () => {
    const { events } = parse(['event: ruleset\ndata: {"version":1}\n']);
    expect(events).toEqual([]);
  });
});
