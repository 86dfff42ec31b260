import type { AnalysisIntervalMetricV1 } from '@rollgate/contracts';
import { FINAL_PHASES, type ReleaseView } from '@rollgate/releases';
import { formatGate } from '../compat/compat.command';
import { table } from '../output/table';

/** What GET /releases/:id answers. */
export type { ReleaseView };

const bar = (done: number, total: number, width = 20) => {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
};

const weights = (w: Record<string, number>) =>
  Object.entries(w)
    .filter(([, v]) => v > 0)
    .map(([group, v]) => `${group} ${v}%`)
    .join(', ');

/** A release as a short block a person reads at a glance: progress, steps, why. */
export function formatRelease(release: ReleaseView): string {
  const done = release.step + (release.stepCompleted ? 1 : 0);
  const lines = [
    `release ${release.id}  ${release.service} ${release.version} (${release.strategy})`,
    `phase   ${release.phase}  ${bar(Math.max(0, done), release.steps.length)} ${Math.max(0, done)}/${release.steps.length} steps`,
  ];
  release.steps.forEach((step, i) => {
    const mark =
      i < release.step || (i === release.step && release.stepCompleted)
        ? 'done'
        : i === release.step
          ? 'now '
          : '    ';
    lines.push(
      `  ${mark} ${String(i).padStart(2)}  ${step.description.padEnd(32)} ${weights(step.weights)}`,
    );
  });
  if (release.reason) lines.push(`reason  ${release.reason}`);
  if (release.drift.length > 0)
    lines.push(`DRIFT   instances running an unintended build: ${release.drift.join(', ')}`);
  if (release.apiGate)
    lines.push(formatGate(release.apiGate, release.phase === 'progressing' && !hasEnded(release)));
  return `${lines.join('\n')}\n`;
}

/**
 * The latest analysis interval (a timeline entry's details): its verdict, who judged it (judge,
 * canary config version) and each config metric's canary and baseline values.
 */
export function formatLastInterval(details: Record<string, unknown>): string {
  const config = details['canaryConfig'] as { name: string; version: number } | null | undefined;
  const judge = typeof details['judge'] === 'string' ? ` by ${details['judge']}` : '';
  const lines = [
    `analysis interval ${String(details['interval'])}: ${String(details['verdict'])}${judge}${config ? ` (canary config ${config.name} v${config.version})` : ''}`,
  ];
  const metrics = (details['metrics'] ?? []) as AnalysisIntervalMetricV1[];
  const value = (v: number | undefined) =>
    v === undefined ? 'no data' : String(Number(v.toPrecision(4)));
  for (const m of metrics)
    lines.push(
      `  ${m.name.padEnd(20)} ${m.measuredBy.padEnd(11)} canary ${value(m.canary).padEnd(9)} baseline ${value(m.baseline).padEnd(9)} ${m.classification ?? ''}`.trimEnd(),
    );
  return `${lines.join('\n')}\n`;
}

/** One line per release for lists. */
export function formatReleaseList(releases: ReleaseView[]): string {
  if (releases.length === 0) return 'no releases\n';
  const rows = releases.map((r) => [
    r.id,
    r.service,
    r.version,
    r.strategy,
    r.phase,
    `${Math.max(0, r.step + (r.stepCompleted ? 1 : 0))}/${r.steps.length}`,
  ]);
  return table(['RELEASE', 'SERVICE', 'VERSION', 'STRATEGY', 'PHASE', 'STEPS'], rows);
}

/** Whether a release has ended (succeeded, rolled back or aborted). */
export const hasEnded = (release: ReleaseView) =>
  (FINAL_PHASES as readonly string[]).includes(release.phase);

/** Releases still in flight, one line each with a progress bar and the current step's weights. */
export function formatActiveReleases(releases: ReleaseView[]): string {
  const active = releases.filter((r) => !hasEnded(r));
  if (active.length === 0) return 'no active releases\n';
  const rows = active.map((r) => {
    const done = Math.max(0, r.step + (r.stepCompleted ? 1 : 0));
    const step = r.steps[Math.max(0, r.step)];
    return [
      r.service,
      r.version,
      r.strategy,
      r.drift.length > 0 ? `${r.phase} (DRIFT)` : r.phase,
      `${bar(done, r.steps.length, 10)} ${done}/${r.steps.length}`,
      step ? weights(step.weights) : '',
      r.id,
    ];
  });
  return table(['SERVICE', 'VERSION', 'STRATEGY', 'PHASE', 'PROGRESS', 'WEIGHTS', 'RELEASE'], rows);
}
