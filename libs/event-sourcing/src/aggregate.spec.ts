import type { EventEnvelope } from '@rollgate/contracts';
import { fold, type Aggregate } from './aggregate';

const counter: Aggregate<{ count: number; last: string | null }> = {
  name: 'counter',
  initial: () => ({ count: 0, last: null }),
  evolve: (state, event) => ({ count: state.count + 1, last: event.occurredAt }),
};

const at = (occurredAt: string) => ({ occurredAt }) as EventEnvelope;

describe('fold', () => {
  it('applies events in order and takes time from the events only', () => {
    const events = [at('2026-01-01T00:00:00.000Z'), at('2026-01-02T00:00:00.000Z')];
    expect(fold(counter, events)).toEqual({ count: 2, last: '2026-01-02T00:00:00.000Z' });
    expect(fold(counter, events)).toEqual(fold(counter, events));
  });

  it('starts from a fresh initial state each time', () => {
    expect(fold(counter, [])).toEqual({ count: 0, last: null });
  });
});
