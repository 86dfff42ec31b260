import type { EventEnvelope, NewEvent } from '@rollgate/contracts';

/**
 * An aggregate is two pure functions: `evolve` folds an event into state, and a command
 * handler decides new events from state. No clock, no random, no I/O: time comes from events.
 */
export interface Aggregate<TState> {
  readonly name: string;
  initial(): TState;
  evolve(state: TState, event: EventEnvelope): TState;
}

export function fold<TState>(
  aggregate: Aggregate<TState>,
  events: Iterable<EventEnvelope>,
): TState {
  let state = aggregate.initial();
  for (const event of events) state = aggregate.evolve(state, event);
  return state;
}

/** What a command handler returns: the events to append (possibly none: nothing changed). */
export type Decision = NewEvent[];

/** A command refused by the domain. `code` maps to a transport status at the edge. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: 'conflict' | 'not-found' | 'invalid' | 'forbidden',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
