/**
 * For specs: polls `read` until `done` says yes. The error names what was awaited and the last
 * value read (its `body` when it has one: an HTTP answer), so a timeout explains itself.
 */
export async function eventually<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      const shown = (value as { body?: unknown } | null)?.body ?? value;
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(shown)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
