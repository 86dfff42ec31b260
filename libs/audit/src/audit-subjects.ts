import { migrationSubject } from './migration-subject';
import { flagSubject } from './flag-subject';
import { releaseSubject, releaseView, type ReleaseAuditState } from './release-subject';
import { canonicalJson, renderTimelineText } from './render';
import {
  replay,
  type AuditEvent,
  type AuditSubject,
  type ReplayCut,
  type TimelineEntry,
} from './replay';

export const SUBJECT_KINDS = ['release', 'flag', 'migration'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export interface SubjectRef {
  kind: SubjectKind;
  id: string;
}

/** The subject behind `--release ID`, `--flag NAME` or `--migration ID`. */
export function subjectOf(ref: SubjectRef): AuditSubject<unknown> {
  switch (ref.kind) {
    case 'release':
      return releaseSubject(ref.id) as AuditSubject<unknown>;
    case 'flag':
      return flagSubject(ref.id) as AuditSubject<unknown>;
    case 'migration':
      return migrationSubject(ref.id) as AuditSubject<unknown>;
  }
}

/** What `rollgate replay` and the timeline API answer, and what both renderers print. */
export interface ReplayReport {
  subject: SubjectRef;
  cut: ReplayCut;
  /** Events of the subject up to the cut, and in the whole log read. */
  events: { replayed: number; total: number };
  /** For a release: what GET /releases/:id shows, rebuilt; null before it was requested. */
  view: unknown;
  state: unknown;
  timeline: TimelineEntry[];
}

export function replayReport(
  ref: SubjectRef,
  events: Iterable<AuditEvent>,
  cut: ReplayCut = { kind: 'end' },
): ReplayReport {
  const subject = subjectOf(ref);
  const result = replay(subject, events, cut);
  return {
    subject: ref,
    cut,
    events: { replayed: result.timeline.length, total: result.totalEvents },
    view: ref.kind === 'release' ? releaseView(result.state as ReleaseAuditState) : null,
    state: result.state,
    timeline: result.timeline,
  };
}

export function renderReportJson(report: ReplayReport): string {
  return canonicalJson(report);
}

export function renderReportText(report: ReplayReport): string {
  const subject = subjectOf(report.subject);
  const lines = Object.entries(subject.digest(report.state)).map(([k, v]) => `${k}: ${v}`);
  if (report.subject.kind === 'release') {
    const state = report.state as ReleaseAuditState;
    for (const run of state.analyses) {
      for (const interval of run.intervals) {
        lines.push(
          `  step ${run.step} interval ${interval.interval}: ${interval.verdict}${interval.score !== null ? ` (score ${interval.score})` : ''}`,
        );
      }
    }
  }
  return renderTimelineText(
    {
      subject: report.subject,
      cut: report.cut,
      state: report.state,
      timeline: report.timeline,
      totalEvents: report.events.total,
    },
    lines,
  );
}
