import type { ReplayResult } from './replay';

/** JSON with keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown, indent = 2): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, indent)}\n`;
}

function describeCut(result: ReplayResult<unknown>): string {
  switch (result.cut.kind) {
    case 'at':
      return `as of ${result.cut.at}`;
    case 'offset':
      return `after ${result.cut.offset} event(s)`;
    default:
      return 'at the end of the log';
  }
}

/**
 * The text report: a header, the state fields (the last entry's digest), then one block per
 * event. Uses only what the result holds, so equal results print equal bytes.
 */
export function renderTimelineText(
  result: ReplayResult<unknown>,
  stateLines: readonly string[],
): string {
  const lines: string[] = [];
  lines.push(
    `${result.subject.kind} ${result.subject.id} ${describeCut(result)}: ${result.timeline.length} of ${result.totalEvents} event(s)`,
  );
  lines.push('');
  lines.push('state:');
  for (const line of stateLines) lines.push(`  ${line}`);
  if (stateLines.length === 0) lines.push('  (nothing yet)');
  lines.push('');
  lines.push('timeline:');
  for (const entry of result.timeline) {
    const where = `${entry.position.topic}[${entry.position.partition}]@${entry.position.offset}`;
    lines.push(`#${entry.n} ${entry.occurredAt} ${entry.actor} ${entry.type} (${where})`);
    lines.push(`    ${entry.summary}`);
    if (entry.reason) lines.push(`    why: ${entry.reason}`);
    for (const change of entry.changes) {
      lines.push(`    ${change.field}: ${change.from ?? '-'} -> ${change.to ?? '-'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
