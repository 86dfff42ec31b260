import type { EventEnvelope } from '@rollgate/contracts';

/** Where an event sits in the log (same shape as the event-log port's LogPosition). */
export interface AuditPosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface AuditEvent {
  event: EventEnvelope;
  position: AuditPosition;
}

/** What one event did, in words, for people reading a postmortem. */
export interface EventDescription {
  /** What happened, e.g. "step 1 started: canary 25%". */
  summary: string;
  /** Why, when the event says (a reason, evidence, judge reasons). */
  reason: string | null;
  /** The numbers behind it (weights, scores, counts), as the event carries them. */
  details: Record<string, unknown>;
}

/**
 * Something whose history can be replayed from the log: a release, a flag, a migration.
 * All functions are pure: time comes from `occurredAt`, never from a clock.
 */
export interface AuditSubject<TState> {
  /** `release`, `flag`, `migration`. */
  readonly kind: string;
  readonly id: string;
  /** Topics its events live on, in the order ties are broken when merging them. */
  readonly topics: readonly string[];
  /**
   * Every event of the subject carries the same partition key on every topic (a release: its
   * service), so a reader may read the later topics only on the partitions the first one used.
   */
  readonly keyedAlike?: boolean;
  belongs(event: EventEnvelope): boolean;
  initial(): TState;
  evolve(state: TState, event: EventEnvelope): TState;
  describe(event: EventEnvelope, before: TState, after: TState): EventDescription;
  /** A flat, readable view of the state; the timeline lists the fields an event changed. */
  digest(state: TState): Record<string, string>;
}

/** Which moment to rebuild: the end of the log, an instant, or after the first N events. */
export type ReplayCut =
  { kind: 'end' } | { kind: 'at'; at: string } | { kind: 'offset'; offset: number };

export interface FieldChange {
  field: string;
  from: string | null;
  to: string | null;
}

export interface TimelineEntry {
  /** 1-based position in this subject's timeline; `--offset N` stops after entry N. */
  n: number;
  occurredAt: string;
  actor: string;
  type: string;
  version: number;
  eventId: string;
  causationId: string | null;
  position: AuditPosition;
  summary: string;
  reason: string | null;
  changes: FieldChange[];
  details: Record<string, unknown>;
}

export interface ReplayResult<TState> {
  subject: { kind: string; id: string };
  cut: ReplayCut;
  state: TState;
  timeline: TimelineEntry[];
  /** Events of this subject in the whole log read, including those after the cut. */
  totalEvents: number;
}

/** Thrown for a cut that cannot be read (bad instant, negative offset). */
export class ReplayCutError extends Error {
  override readonly name = 'ReplayCutError';
}

export function parseCut(options: { at?: string; offset?: string | number }): ReplayCut {
  if (options.at !== undefined && options.offset !== undefined) {
    throw new ReplayCutError('give either --at or --offset, not both');
  }
  if (options.at !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(options.at)) {
      throw new ReplayCutError(
        `at: must be an ISO-8601 instant with a zone, e.g. 2026-01-31T12:00:00Z, got '${options.at}'`,
      );
    }
    if (Number.isNaN(Date.parse(options.at))) {
      throw new ReplayCutError(`at: '${options.at}' is not a valid instant`);
    }
    return { kind: 'at', at: new Date(Date.parse(options.at)).toISOString() };
  }
  if (options.offset !== undefined) {
    const offset = Number(options.offset);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new ReplayCutError(
        `offset: must be a whole number of events (0 or more), got '${options.offset}'`,
      );
    }
    return { kind: 'offset', offset };
  }
  return { kind: 'end' };
}

/**
 * The subject's events in one deterministic order: each partition keeps its log order, and
 * partitions are merged by `occurredAt` (ties: topic order of the subject, then partition).
 * A message published twice (an outbox retry) appears once, where it was first logged.
 */
export function orderEvents(topics: readonly string[], events: Iterable<AuditEvent>): AuditEvent[] {
  const streams = new Map<string, AuditEvent[]>();
  for (const logged of events) {
    const key = `${logged.position.topic}\u0000${logged.position.partition}`;
    let stream = streams.get(key);
    if (!stream) streams.set(key, (stream = []));
    stream.push(logged);
  }
  const topicRank = (topic: string) => {
    const rank = topics.indexOf(topic);
    return rank === -1 ? topics.length : rank;
  };
  const heads = [...streams.values()]
    .map((stream) => stream.sort((a, b) => a.position.offset - b.position.offset))
    .map((stream) => ({ stream, next: 0 }));
  const before = (a: AuditEvent, b: AuditEvent): boolean => {
    const ta = Date.parse(a.event.occurredAt);
    const tb = Date.parse(b.event.occurredAt);
    if (ta !== tb) return ta < tb;
    const ra = topicRank(a.position.topic);
    const rb = topicRank(b.position.topic);
    if (ra !== rb) return ra < rb;
    if (a.position.topic !== b.position.topic) return a.position.topic < b.position.topic;
    return a.position.partition < b.position.partition;
  };
  const ordered: AuditEvent[] = [];
  const seen = new Set<string>();
  for (;;) {
    let best: { stream: AuditEvent[]; next: number } | undefined;
    for (const head of heads) {
      if (head.next >= head.stream.length) continue;
      if (!best || before(head.stream[head.next]!, best.stream[best.next]!)) best = head;
    }
    if (!best) return ordered;
    const logged = best.stream[best.next++]!;
    if (seen.has(logged.event.id)) continue;
    seen.add(logged.event.id);
    ordered.push(logged);
  }
}

function within(cut: ReplayCut, logged: AuditEvent, count: number): boolean {
  if (cut.kind === 'at') return Date.parse(logged.event.occurredAt) <= Date.parse(cut.at);
  if (cut.kind === 'offset') return count < cut.offset;
  return true;
}

function diff(before: Record<string, string>, after: Record<string, string>): FieldChange[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields
    .filter((field) => before[field] !== after[field])
    .map((field) => ({ field, from: before[field] ?? null, to: after[field] ?? null }));
}

/**
 * Rebuilds a subject at a moment from events read off the log (any topics, any order of
 * partitions): selects its events, orders them, folds them and explains each one.
 */
export function replay<TState>(
  subject: AuditSubject<TState>,
  events: Iterable<AuditEvent>,
  cut: ReplayCut = { kind: 'end' },
): ReplayResult<TState> {
  const selected = [...events].filter((logged) => subject.belongs(logged.event));
  const ordered = orderEvents(subject.topics, selected);
  let state = subject.initial();
  let digest = subject.digest(state);
  const timeline: TimelineEntry[] = [];
  for (const logged of ordered) {
    if (!within(cut, logged, timeline.length)) continue;
    const { event } = logged;
    const before = state;
    state = subject.evolve(state, event);
    const nextDigest = subject.digest(state);
    const description = subject.describe(event, before, state);
    timeline.push({
      n: timeline.length + 1,
      occurredAt: event.occurredAt,
      actor: event.actor,
      type: event.type,
      version: event.version,
      eventId: event.id,
      causationId: event.causationId,
      position: { ...logged.position },
      summary: description.summary,
      reason: description.reason,
      changes: diff(digest, nextDigest),
      details: description.details,
    });
    digest = nextDigest;
  }
  return {
    subject: { kind: subject.kind, id: subject.id },
    cut,
    state,
    timeline,
    totalEvents: ordered.length,
  };
}
