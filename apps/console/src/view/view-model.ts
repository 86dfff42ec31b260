// Pure view-model of the web console: no DOM, no Node, no imports. The console server uses it
// (the services list is filtered and paged on the server) and serves it to the browser as an ES
// module transpiled from this file (docs/adr/0014-web-console.md), so unit tests cover both.

export interface ReleaseSummary {
  id: string;
  service: string;
  version: string | null;
  phase: string;
  step: number;
  requestedAt: string;
  updatedAt: string;
}

export interface ServiceRow {
  service: string;
  /** Version of the last release that succeeded: what the stable group runs. */
  stable: string | null;
  active: { id: string; version: string | null; phase: string; step: number } | null;
  last: { id: string; phase: string; at: string } | null;
  releases: number;
}

export interface ServicePage {
  rows: ServiceRow[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}

const ACTIVE_PHASES = new Set(['progressing', 'paused']);

export const isActive = (phase: string): boolean => ACTIVE_PHASES.has(phase);

/** One row per service from every release, sorted by service name. */
export function summarizeServices(releases: readonly ReleaseSummary[]): ServiceRow[] {
  const byService = new Map<string, ReleaseSummary[]>();
  for (const release of releases) {
    const list = byService.get(release.service) ?? [];
    list.push(release);
    byService.set(release.service, list);
  }
  const rows: ServiceRow[] = [];
  for (const [service, list] of byService) {
    list.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
    const newestFirst = [...list].reverse();
    const stable = newestFirst.find((r) => r.phase === 'succeeded');
    const active = newestFirst.find((r) => isActive(r.phase));
    const finished = newestFirst.find((r) => !isActive(r.phase));
    rows.push({
      service,
      stable: stable ? (stable.version ?? null) : null,
      active: active
        ? { id: active.id, version: active.version ?? null, phase: active.phase, step: active.step }
        : null,
      last: finished ? { id: finished.id, phase: finished.phase, at: finished.updatedAt } : null,
      releases: list.length,
    });
  }
  return rows.sort((a, b) => a.service.localeCompare(b.service));
}

export interface ServiceQuery {
  /** Substring of the service name, case-insensitive. */
  q?: string;
  /** `active`: only services with a release in flight; an outcome: only those whose last release ended so. */
  status?: string;
  page?: number;
  pageSize?: number;
}

/** Filters and pages the service rows, so a browser gets one page of 500 services, not all. */
export function pageServices(rows: readonly ServiceRow[], query: ServiceQuery): ServicePage {
  const q = (query.q ?? '').trim().toLowerCase();
  const status = (query.status ?? '').trim();
  const filtered = rows.filter((row) => {
    if (q && !row.service.toLowerCase().includes(q)) return false;
    if (status === 'active') return row.active !== null;
    if (status) return row.last?.phase === status;
    return true;
  });
  const pageSize = Math.min(200, Math.max(1, Math.floor(query.pageSize || 50)));
  const pages = Math.max(1, Math.ceil(filtered.length / pageSize));
  const page = Math.min(pages, Math.max(1, Math.floor(query.page || 1)));
  return {
    rows: filtered.slice((page - 1) * pageSize, page * pageSize),
    total: filtered.length,
    page,
    pageSize,
    pages,
  };
}

export interface Grant {
  subject: string;
  scopes: readonly string[];
  services?: readonly string[];
}

/** Whether the token may do `scope` on `service` (admin implies every scope; a service list limits all). */
export function may(grant: Grant | null, scope: string, service?: string): boolean {
  if (!grant) return false;
  const scoped = grant.scopes.includes('admin') || grant.scopes.includes(scope);
  const inReach = service === undefined || !grant.services || grant.services.includes(service);
  return scoped && inReach;
}

export type ReleaseAction = 'pause' | 'resume' | 'promote' | 'promote-full' | 'abort';

export interface ActionState {
  action: ReleaseAction;
  label: string;
  /** Enabled when the API would accept it, with an effect, in the release's state. */
  enabled: boolean;
  /** Why it is disabled, for its title and screen readers. */
  why: string | null;
}

const LABELS: Record<ReleaseAction, string> = {
  pause: 'Pause',
  resume: 'Resume',
  promote: 'Promote',
  'promote-full': 'Promote full',
  abort: 'Abort',
};

/**
 * The release actions enabled exactly where the orchestrator accepts them with an effect
 * (decidePause / decideResume / decidePromote / decideAbort in libs/releases/src/decisions.ts):
 * pause while progressing; resume while paused, or while progressing and held by drift (resume
 * clears the hold); promote / promote full while in flight, not rolling back, with no drift;
 * abort while in flight and not already rolling back. Empty when the token may not deploy this
 * service: the buttons are hidden.
 */
export function releaseActions(
  release: { phase: string; service: string; drift?: readonly string[] },
  grant: Grant | null,
): ActionState[] {
  if (!may(grant, 'deploy', release.service)) return [];
  const { phase } = release;
  const drift = release.drift ?? [];
  // `rolling-back` is in flight for the orchestrator, but it accepts none of these there.
  const inFlight = isActive(phase);
  const notNow = `not while the release is ${phase}`;
  const promoteWhy = !inFlight
    ? notNow
    : drift.length > 0
      ? `not while instances drift (${drift.join(', ')}): resume or abort`
      : null;
  const why: Record<ReleaseAction, string | null> = {
    pause: phase === 'progressing' ? null : notNow,
    resume: phase === 'paused' || (phase === 'progressing' && drift.length > 0) ? null : notNow,
    promote: promoteWhy,
    'promote-full': promoteWhy,
    abort: inFlight ? null : notNow,
  };
  return (Object.keys(LABELS) as ReleaseAction[]).map((action) => ({
    action,
    label: LABELS[action],
    enabled: why[action] === null,
    why: why[action],
  }));
}

/** The request each action sends (path under /releases/:id, and its body). */
export function actionRequest(
  action: ReleaseAction,
  reason: string,
): { path: string; body: Record<string, unknown> } {
  switch (action) {
    case 'pause':
      return { path: 'pause', body: { reason } };
    case 'resume':
      return { path: 'resume', body: {} };
    case 'promote':
      return { path: 'promote', body: {} };
    case 'promote-full':
      return { path: 'promote', body: { full: true } };
    case 'abort':
      return { path: 'abort', body: { reason } };
  }
}

export interface StepView {
  index: number;
  description: string;
  weights: Record<string, number>;
  status: 'done' | 'current' | 'todo' | 'failed';
}

const FAILED_PHASES = ['rolled-back', 'aborted', 'failed'];

/** The progress line: each step done, current, still to come, or where the release failed. */
export function progressLine(release: {
  phase: string;
  step: number;
  stepCompleted?: boolean;
  steps: { description: string; weights: Record<string, number> }[];
}): StepView[] {
  const failed = FAILED_PHASES.includes(release.phase);
  const statusOf = (index: number): StepView['status'] => {
    if (release.phase === 'succeeded' || index < release.step) return 'done';
    if (index > release.step) return 'todo';
    if (failed) return 'failed';
    return release.stepCompleted ? 'done' : 'current';
  };
  return release.steps.map((step, index) => ({
    index,
    description: step.description,
    weights: step.weights,
    status: statusOf(index),
  }));
}

export interface GroupSignals {
  requests: number;
  errors: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
  saturation?: number | null;
}

export interface AnalysisInterval {
  interval: number;
  at: string;
  verdict: string;
  score?: number | null;
  reasons: string[];
  canary?: GroupSignals | null;
  baseline?: GroupSignals | null;
  judge?: string;
}

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  value: (g: GroupSignals) => number | null;
}

export const METRICS: readonly MetricDef[] = [
  {
    key: 'error-rate',
    label: 'Error rate',
    unit: '%',
    value: (g) => (g.requests > 0 ? (100 * g.errors) / g.requests : null),
  },
  { key: 'p50', label: 'Latency p50', unit: 'ms', value: (g) => g.p50Ms ?? null },
  { key: 'p99', label: 'Latency p99', unit: 'ms', value: (g) => g.p99Ms ?? null },
  { key: 'saturation', label: 'Saturation', unit: '', value: (g) => g.saturation ?? null },
];

export interface ChartPoint {
  interval: number;
  x: number;
  canary: number | null;
  baseline: number | null;
  cy: number | null;
  by: number | null;
  verdict: string;
}

export interface Chart {
  metric: string;
  label: string;
  unit: string;
  width: number;
  height: number;
  max: number;
  points: ChartPoint[];
  canaryPath: string;
  baselinePath: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** An SVG path through the points that have a value; a missing value lifts the pen. */
function linePath(points: readonly ChartPoint[], key: 'cy' | 'by'): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points) {
    const y = p[key];
    if (y === null) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${p.x} ${y}`);
    pen = true;
  }
  return parts.join(' ');
}

/** One chart per metric: canary and baseline per interval, scaled into width × height. */
export function analysisCharts(
  intervals: readonly AnalysisInterval[],
  width = 480,
  height = 120,
): Chart[] {
  const pad = 6;
  return METRICS.map((metric) => {
    const raw = intervals.map((i) => ({
      interval: i.interval,
      verdict: i.verdict,
      canary: i.canary ? metric.value(i.canary) : null,
      baseline: i.baseline ? metric.value(i.baseline) : null,
    }));
    const values = raw
      .flatMap((r) => [r.canary, r.baseline])
      .filter((v): v is number => v !== null);
    const max = values.length > 0 ? Math.max(...values) || 1 : 1;
    const step = raw.length > 1 ? (width - 2 * pad) / (raw.length - 1) : 0;
    const y = (v: number | null) =>
      v === null ? null : round(height - pad - ((height - 2 * pad) * v) / max);
    const points = raw.map((r, n) => ({
      ...r,
      x: round(pad + n * step),
      cy: y(r.canary),
      by: y(r.baseline),
    }));
    return {
      metric: metric.key,
      label: metric.label,
      unit: metric.unit,
      width,
      height,
      max,
      points,
      canaryPath: linePath(points, 'cy'),
      baselinePath: linePath(points, 'by'),
    };
  });
}

export interface InstanceView {
  id: string;
  group: string;
  healthy: boolean;
  intended?: { version?: string; digest?: string } | null;
  reported?: { version?: string; digest?: string } | null;
  drifting?: boolean;
}

/** An instance drifts when what it reports running is not what the orchestrator intended. */
export function drifting(instance: InstanceView): boolean {
  if (instance.drifting) return true;
  const intended = instance.intended?.digest;
  const reported = instance.reported?.digest;
  return intended !== undefined && reported !== undefined && intended !== reported;
}

/** The timeline up to an instant (inclusive), as the replay cuts it. */
export function timelineUntil<T extends { occurredAt: string }>(
  entries: readonly T[],
  at: string | null,
): T[] {
  if (!at) return [...entries];
  const cut = Date.parse(at);
  return entries.filter((e) => Date.parse(e.occurredAt) <= cut);
}

/** Slider positions: one per distinct instant of the timeline, in order. */
export function sliderMarks(entries: readonly { occurredAt: string }[]): string[] {
  const marks: string[] = [];
  for (const e of entries) if (marks[marks.length - 1] !== e.occurredAt) marks.push(e.occurredAt);
  return marks;
}

/** The slider index of the last mark at or before an instant; the last one without an instant. */
export function markIndex(marks: readonly string[], at: string | null): number {
  if (!at || marks.length === 0) return Math.max(0, marks.length - 1);
  const cut = Date.parse(at);
  let index = 0;
  marks.forEach((m, i) => {
    if (Date.parse(m) <= cut) index = i;
  });
  return index;
}

export interface FlagConstraint {
  attribute: string;
  operator: string;
  values: readonly string[];
  caseInsensitive?: boolean;
  inverted?: boolean;
}

export interface FlagRule {
  description?: string;
  constraints?: readonly FlagConstraint[];
  segments?: readonly string[];
  serve?: boolean;
  rollout?: number;
  variant?: string;
}

export interface FlagEnvironmentView {
  targets?: { attribute?: string; allow?: readonly string[]; deny?: readonly string[] };
  rules?: readonly FlagRule[];
}

/** `plan IN [beta, pro]`; `NOT country IN [fr] (any case)`. */
function constraintText(c: FlagConstraint): string {
  const values = `[${c.values.join(', ')}]`;
  return `${c.inverted ? 'NOT ' : ''}${c.attribute} ${c.operator} ${values}${c.caseInsensitive ? ' (any case)' : ''}`;
}

/**
 * A flag's targeting in one environment, one line per step in the order it is evaluated:
 * individual targets (deny wins), then each rule's segments and constraints (all must hold) and
 * what it serves, to which share of those who match.
 */
export function environmentRules(env: FlagEnvironmentView): string[] {
  const who = env.targets?.attribute ?? 'userId';
  const targets = [
    ...(env.targets?.deny?.length ? [`${who} in [${env.targets.deny.join(', ')}] → off`] : []),
    ...(env.targets?.allow?.length ? [`${who} in [${env.targets.allow.join(', ')}] → on`] : []),
  ];
  const rules = (env.rules ?? []).map((rule) => {
    const when = [
      ...(rule.segments ?? []).map((s) => `segment ${s}`),
      ...(rule.constraints ?? []).map(constraintText),
    ];
    const serve = rule.serve === false ? 'off' : rule.variant ? `variant ${rule.variant}` : 'on';
    const share = rule.rollout === undefined ? '' : ` for ${rule.rollout}%`;
    const label = rule.description ? `${rule.description}: ` : '';
    return `${label}${when.join(' and ') || 'everyone'} → ${serve}${share}`;
  });
  return [...targets, ...rules];
}

/** Percent of a table's backfill done, 0-100. */
export function backfillPercent(progress: { rowsDone: number; rowsTotal: number }): number {
  if (progress.rowsTotal <= 0) return 100;
  return Math.max(0, Math.min(100, Math.floor((100 * progress.rowsDone) / progress.rowsTotal)));
}

/** Live instances that block contract: they still run a version the old schema serves. */
export function gateBlockers(
  instances: readonly { id: string; reported?: { version?: string } | null }[],
  oldVersions: readonly string[] | null | undefined,
): { id: string; version: string }[] {
  if (!oldVersions || oldVersions.length === 0) return [];
  return instances
    .filter((i) => i.reported?.version !== undefined && oldVersions.includes(i.reported.version))
    .map((i) => ({ id: i.id, version: i.reported!.version! }));
}
