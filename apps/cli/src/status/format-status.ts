import type { ServiceStatus } from './probe-health';

const COLUMNS = [
  ['SERVICE', 'service'],
  ['URL', 'url'],
  ['STATUS', 'status'],
  ['LAG', 'lag'],
  ['OLDEST', 'oldest'],
  ['DETAIL', 'detail'],
] as const;

/** Aligned plain-text table, one line per service; the last column is not padded. */
export function formatStatusTable(rows: readonly ServiceStatus[]): string {
  const cells = [
    COLUMNS.map(([header]) => header as string),
    ...rows.map((row) => COLUMNS.map(([, key]) => row[key])),
  ];
  const widths = COLUMNS.map((_, column) => Math.max(...cells.map((line) => line[column].length)));
  return cells
    .map((line) =>
      line
        .map((cell, column) => (column === COLUMNS.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * 0 only when every service serves (up, or degraded: answering but its consumers behind), so
 * scripts can gate on `rollgate status`; starting, down or unreachable is 1.
 */
export const statusExitCode = (rows: readonly ServiceStatus[]): number =>
  rows.every((row) => row.status === 'up' || row.status === 'degraded') ? 0 : 1;
