import type {
  AuditedAnalysis,
  AuditedInterval,
  ReleaseAuditState,
  ReleaseView,
} from './release-subject';
import { formatIntervalMetrics, formatWeights } from './release-subject';
import type { ReplayReport } from './audit-subjects';
import { escapeXml, lineChart, stepChart, type Series } from './svg-chart';

const GROUP_COLORS: Record<string, string> = {
  stable: '#2563eb',
  baseline: '#6b7280',
  canary: '#ea580c',
  blue: '#0891b2',
  green: '#16a34a',
};

export const VERDICT_COLORS: Record<string, string> = {
  PASS: '#16a34a',
  MARGINAL: '#d97706',
  FAIL: '#dc2626',
  NODATA: '#9ca3af',
};

type Side = AuditedAnalysis['intervals'][number]['canary'];

/** The golden signals a side may carry; a metric is charted when any interval has it. */
const METRICS: { key: string; title: string; unit: string; read: (s: Side) => number | null }[] = [
  {
    key: 'error-rate',
    title: 'error rate',
    unit: '%',
    read: (s) => (s.requests === 0 ? null : (s.errors / s.requests) * 100),
  },
  { key: 'p50', title: 'latency p50', unit: ' ms', read: (s) => s.p50Ms ?? null },
  { key: 'p99', title: 'latency p99', unit: ' ms', read: (s) => s.p99Ms ?? null },
  {
    key: 'saturation',
    title: 'saturation (in flight)',
    unit: '',
    read: (s) => (s as { saturation?: number }).saturation ?? null,
  },
  { key: 'requests', title: 'requests', unit: '', read: (s) => s.requests },
];

function analysisSection(run: AuditedAnalysis): string {
  const labels = run.intervals.map((i) => `#${i.interval}`);
  const markers = run.intervals.map((interval, index) => ({
    index,
    color: VERDICT_COLORS[interval.verdict] ?? '#111827',
    label: `interval ${interval.interval}: ${interval.verdict}${interval.score !== null ? ` (score ${interval.score})` : ''} - ${interval.reasons.join('; ')}`,
  }));
  const charts = METRICS.flatMap((metric) => {
    const canary = run.intervals.map((i) => metric.read(i.canary));
    const baseline = run.intervals.map((i) => metric.read(i.baseline));
    if ([...canary, ...baseline].every((v) => v === null)) return [];
    const series: Series[] = [
      { name: 'baseline', color: GROUP_COLORS['baseline']!, values: baseline },
      { name: 'canary', color: GROUP_COLORS['canary']!, values: canary },
    ];
    return [
      `<figure><figcaption>${escapeXml(metric.title)}: baseline vs canary</figcaption>${lineChart({
        id: `run-${run.analysisRunId}-${metric.key}`,
        title: `${metric.title}, step ${run.step}`,
        unit: metric.unit,
        xLabels: labels,
        series,
        markers,
      })}</figure>`,
    ];
  });
  const rows = run.intervals
    .map(
      (i) =>
        `<tr><td>#${i.interval}</td><td>${escapeXml(i.at)}</td><td><span class="verdict-tag" style="background:${VERDICT_COLORS[i.verdict]}">${i.verdict}</span></td><td>${i.score ?? ''}</td><td>${i.canary.errors}/${i.canary.requests}</td><td>${i.baseline.errors}/${i.baseline.requests}</td><td>${escapeXml(intervalJudging(i))}</td><td>${escapeXml(i.reasons.join('; '))}</td></tr>`,
    )
    .join('');
  const verdict = run.verdict
    ? `<span class="verdict-tag" style="background:${VERDICT_COLORS[run.verdict.verdict]}">${run.verdict.verdict}</span> ${run.verdict.score !== null ? `score ${run.verdict.score}` : ''} — ${escapeXml(run.verdict.reasons.join('; '))}`
    : 'no verdict (yet)';
  return `<section class="analysis"><h3>Step ${run.step}: analysis ${escapeXml(run.analysisRunId)}</h3><p>${escapeXml(run.judge)} judge, ${run.intervals.length} of at most ${run.maxIntervals} intervals of ${run.intervalSeconds}s. Verdict: ${verdict}</p><div class="charts">${charts.join('')}</div><table><thead><tr><th>interval</th><th>at</th><th>verdict</th><th>score</th><th>canary errors</th><th>baseline errors</th><th>judged by, metrics</th><th>reasons</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** Who judged an interval (judge, canary config version) and each config metric's values. */
function intervalJudging(interval: AuditedInterval): string {
  const config = interval.canaryConfig
    ? `canary config ${interval.canaryConfig.name} v${interval.canaryConfig.version}`
    : '';
  return [interval.judge ?? '', config, formatIntervalMetrics(interval.metrics)]
    .filter(Boolean)
    .join('; ');
}

function routeSection(state: ReleaseAuditState, from: number, to: number): string {
  if (state.routes.length === 0) return '<p>No route was confirmed for this release.</p>';
  const groups = [...new Set(state.routes.flatMap((r) => Object.keys(r.weights)))].sort(
    (a, b) => Object.keys(GROUP_COLORS).indexOf(a) - Object.keys(GROUP_COLORS).indexOf(b),
  );
  const chart = stepChart({
    id: 'route-weights',
    title: 'route weights over time',
    from,
    to,
    changes: state.routes.map((r) => ({ at: Date.parse(r.at), values: r.weights })),
    groups: groups.map((name) => ({ name, color: GROUP_COLORS[name] ?? '#111827' })),
  });
  const rows = state.routes
    .map(
      (r) =>
        `<tr><td>${escapeXml(r.at)}</td><td>${escapeXml(formatWeights(r.weights))}</td><td>${escapeXml(r.dataPlane)}</td></tr>`,
    )
    .join('');
  return `<figure><figcaption>Confirmed route weights (%) over time</figcaption>${chart}</figure><table><thead><tr><th>confirmed at</th><th>weights</th><th>data plane</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#111827;background:#fff;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e5e7eb}h3{font-size:15px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}
.charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}figcaption{font-size:12px;color:#374151}
.verdict-tag{color:#fff;padding:1px 5px;border-radius:3px;font-size:11px}.why{color:#4b5563}.changes{color:#6b7280}`;

/**
 * The postmortem of one release as a single HTML file that opens offline: no scripts, no network,
 * inline SVG. Built only from the replay report, so the same log gives the same bytes.
 */
export function renderPostmortemHtml(report: ReplayReport): string {
  const state = report.state as ReleaseAuditState;
  const view = report.view as ReleaseView | null;
  const times = report.timeline.map((e) => Date.parse(e.occurredAt));
  const from = times.length > 0 ? Math.min(...times) : 0;
  const to = times.length > 0 ? Math.max(...times) : 0;
  const title = `Release ${report.subject.id}${view ? ` of ${view.service} ${view.version}` : ''}`;
  const summary = view
    ? `<table><tbody>${[
        ['service', view.service],
        ['artifact', `${view.artifact.name}@${view.artifact.digest}`],
        ['strategy', view.strategy],
        ['outcome', view.phase],
        ['reason', view.reason ?? ''],
        [
          'last step',
          view.step < 0
            ? 'none started'
            : `${view.step + 1} of ${view.steps.length}: ${view.steps[view.step]?.description ?? ''}`,
        ],
        ['requested by', `${view.requestedBy} at ${view.requestedAt}`],
        ['last change', view.updatedAt],
        ['events', `${report.events.replayed} of ${report.events.total}`],
      ]
        .map(([k, v]) => `<tr><th>${escapeXml(k!)}</th><td>${escapeXml(v!)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>The release was not requested by this moment.</p>';
  const timeline = report.timeline
    .map(
      (e) =>
        `<tr><td>#${e.n}</td><td>${escapeXml(e.occurredAt)}</td><td>${escapeXml(e.actor)}</td><td>${escapeXml(e.type)}</td><td>${escapeXml(e.summary)}${e.reason ? `<div class="why">why: ${escapeXml(e.reason)}</div>` : ''}${e.changes.length > 0 ? `<div class="changes">${e.changes.map((c) => escapeXml(`${c.field}: ${c.from ?? '-'} → ${c.to ?? '-'}`)).join('<br>')}</div>` : ''}</td></tr>`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeXml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeXml(title)}</h1>${summary}
<h2>Route weights</h2>${routeSection(state, from, to)}
<h2>Canary analysis</h2>${state.analyses.length > 0 ? state.analyses.map(analysisSection).join('') : '<p>No analysis ran for this release.</p>'}
<h2>Timeline</h2><table class="timeline"><thead><tr><th>#</th><th>at</th><th>actor</th><th>event</th><th>what changed and why</th></tr></thead><tbody>${timeline}</tbody></table>
<footer><p class="changes">Rebuilt from the event log by rollgate audit export; ${escapeXml(report.cut.kind === 'at' ? `as of ${report.cut.at}` : report.cut.kind === 'offset' ? `after ${report.cut.offset} events` : 'at the end of the log')}.</p></footer>
</body></html>
`;
}
