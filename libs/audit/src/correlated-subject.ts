import type { EventEnvelope } from '@rollgate/contracts';
import type { AuditSubject } from './replay';

/** What a subject without its own fold looks like: its latest fields, as events set them. */
export interface CorrelatedState {
  id: string;
  events: number;
  lastType: string | null;
  updatedAt: string | null;
  fields: Record<string, unknown>;
}

function render(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A subject found by correlation id (or an id field in `data`) whose state is the latest value
 * of each data field: a subject without a fold of its own can still be replayed with it.
 */
export function correlatedSubject(
  kind: string,
  id: string,
  topics: readonly string[],
  idFields: readonly string[],
): AuditSubject<CorrelatedState> {
  const belongs = (event: EventEnvelope) => {
    if (event.correlationId === id) return true;
    const data = event.data as Record<string, unknown> | null;
    return idFields.some((field) => data?.[field] === id);
  };
  return {
    kind,
    id,
    topics,
    belongs,
    initial: () => ({ id, events: 0, lastType: null, updatedAt: null, fields: {} }),
    evolve: (state, event) => ({
      id,
      events: state.events + 1,
      lastType: event.type,
      updatedAt: event.occurredAt,
      fields: { ...state.fields, ...(event.data as Record<string, unknown>) },
    }),
    describe: (event) => {
      const data = event.data as Record<string, unknown>;
      return {
        summary: event.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(),
        reason: typeof data['reason'] === 'string' ? data['reason'] : null,
        details: data,
      };
    },
    digest: (state) =>
      Object.fromEntries(
        Object.keys(state.fields)
          .sort()
          .map((field) => [field, render(state.fields[field])]),
      ),
  };
}
