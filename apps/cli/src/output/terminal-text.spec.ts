import { escapeTerminalText } from './terminal-text';

describe('escapeTerminalText', () => {
  it('shows escape sequences and carriage returns instead of obeying them', () => {
    expect(escapeTerminalText('a\x1b[2Jb\rc')).toBe('a\\x1b[2Jb\\x0dc');
    expect(escapeTerminalText('bell\x07')).toBe('bell\\x07');
  });

  it('escapes DEL, C1 and bidirectional overrides so that JSON stays valid', () => {
    const printed = escapeTerminalText(JSON.stringify({ name: 'a\u202etxt\x9b\x7f' }));
    expect(printed).toBe('{"name":"a\\u202etxt\\u009b\\u007f"}');
    expect(JSON.parse(printed)).toEqual({ name: 'a\u202etxt\x9b\x7f' });
  });

  it('keeps tabs, newlines and ordinary unicode', () => {
    expect(escapeTerminalText('a\tb\nc ✓ é')).toBe('a\tb\nc ✓ é');
  });
});
