/** An event that does not match its contract. `field` is a dotted path such as `data.artifact.digest`. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly eventType: string | undefined,
  ) {
    super(`invalid event${eventType ? ` ${eventType}` : ''}: ${field} ${problem}`);
  }
}
