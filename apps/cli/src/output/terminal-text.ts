/**
 * What the CLI prints comes partly from users (artifact names, reasons, descriptions), through the
 * API or straight from the log. Characters that would steer the terminal are shown escaped instead:
 * C0 controls (but tab and newline) as `\x1b`; DEL, C1 and bidirectional overrides as `\u202e`,
 * which also keeps `--json` output valid JSON (JSON.stringify already escapes C0 itself).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const STEERING = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

export function escapeTerminalText(text: string): string {
  return text.replace(STEERING, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x20
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
