/** Small, dependency-free SVG charts for the offline postmortem page. Pure and deterministic. */

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Fixed precision keeps the bytes stable across platforms. */
const n = (value: number) => (Math.round(value * 100) / 100).toString();

export interface Series {
  name: string;
  color: string;
  /** One value per x position; null is a gap (no data). */
  values: (number | null)[];
}

export interface ChartMarker {
  index: number;
  color: string;
  label: string;
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 48, right: 16, top: 16, bottom: 40 };

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const steps = [1, 2, 2.5, 5, 10];
  return steps.map((s) => s * magnitude).find((s) => s >= max) ?? 10 * magnitude;
}

function axes(yMax: number, unit: string, xLabels: string[], x: (i: number) => number): string[] {
  const parts: string[] = [];
  const plotBottom = HEIGHT - PAD.bottom;
  for (let t = 0; t <= 4; t++) {
    const value = (yMax * t) / 4;
    const y = plotBottom - ((plotBottom - PAD.top) * t) / 4;
    parts.push(
      `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${n(y)}" y2="${n(y)}" stroke="#e5e7eb"/>`,
      `<text x="${PAD.left - 6}" y="${n(y + 4)}" text-anchor="end" font-size="10" fill="#6b7280">${escapeXml(n(value))}${escapeXml(unit)}</text>`,
    );
  }
  xLabels.forEach((label, i) => {
    parts.push(
      `<text x="${n(x(i))}" y="${plotBottom + 14}" text-anchor="middle" font-size="10" fill="#6b7280">${escapeXml(label)}</text>`,
    );
  });
  return parts;
}

function legend(series: Series[]): string {
  return series
    .map(
      (s, i) =>
        `<g transform="translate(${PAD.left + i * 110},${HEIGHT - 10})"><rect width="10" height="10" y="-9" fill="${s.color}"/><text x="14" font-size="11" fill="#111827">${escapeXml(s.name)}</text></g>`,
    )
    .join('');
}

/** A line per series over categorical x positions (intervals), with verdict markers on top. */
export function lineChart(options: {
  id: string;
  title: string;
  unit: string;
  xLabels: string[];
  series: Series[];
  markers?: ChartMarker[];
}): string {
  const count = Math.max(1, options.xLabels.length);
  const values = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const yMax = niceMax(Math.max(0, ...values));
  const plotBottom = HEIGHT - PAD.bottom;
  const x = (i: number) =>
    count === 1
      ? (PAD.left + WIDTH - PAD.right) / 2
      : PAD.left + ((WIDTH - PAD.left - PAD.right) * i) / (count - 1);
  const y = (v: number) => plotBottom - ((plotBottom - PAD.top) * v) / yMax;
  const parts = axes(yMax, options.unit, options.xLabels, x);
  for (const marker of options.markers ?? []) {
    parts.push(
      `<rect class="verdict" x="${n(x(marker.index) - 5)}" y="${PAD.top - 12}" width="10" height="8" fill="${marker.color}"><title>${escapeXml(marker.label)}</title></rect>`,
    );
  }
  for (const s of options.series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${n(x(i))},${n(y(v))}`;
      pen = true;
    });
    if (d) {
      parts.push(
        `<path class="series" data-series="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`,
      );
    }
    s.values.forEach((v, i) => {
      if (v !== null) {
        parts.push(
          `<circle cx="${n(x(i))}" cy="${n(y(v))}" r="3" fill="${s.color}"><title>${escapeXml(`${s.name} ${options.xLabels[i] ?? i}: ${n(v)}${options.unit}`)}</title></circle>`,
        );
      }
    });
  }
  return `<svg id="${escapeXml(options.id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}${legend(options.series)}</svg>`;
}

/** Weights that hold until the next change: a step line per group over real time. */
export function stepChart(options: {
  id: string;
  title: string;
  /** Milliseconds since the epoch. */
  from: number;
  to: number;
  changes: { at: number; values: Record<string, number> }[];
  groups: { name: string; color: string }[];
}): string {
  const plotBottom = HEIGHT - PAD.bottom;
  const span = Math.max(1, options.to - options.from);
  const x = (t: number) => PAD.left + ((WIDTH - PAD.left - PAD.right) * (t - options.from)) / span;
  const y = (v: number) => plotBottom - ((plotBottom - PAD.top) * v) / 100;
  const seconds = (t: number) => `+${Math.round((t - options.from) / 1000)}s`;
  const ticks = [0, 1, 2, 3, 4].map((i) => options.from + (span * i) / 4);
  const parts = axes(100, '%', [], x);
  ticks.forEach((t) =>
    parts.push(
      `<text x="${n(x(t))}" y="${plotBottom + 14}" text-anchor="middle" font-size="10" fill="#6b7280">${seconds(t)}</text>`,
    ),
  );
  for (const group of options.groups) {
    let d = '';
    let last: number | undefined;
    for (const change of options.changes) {
      const value = change.values[group.name] ?? 0;
      if (last === undefined) d += `M${n(x(change.at))},${n(y(value))}`;
      else d += `H${n(x(change.at))}V${n(y(value))}`;
      last = value;
    }
    if (last === undefined) continue;
    d += `H${n(x(options.to))}`;
    parts.push(
      `<path class="series" data-series="${escapeXml(group.name)}" d="${d}" fill="none" stroke="${group.color}" stroke-width="2.5"/>`,
    );
  }
  return `<svg id="${escapeXml(options.id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}${legend(options.groups.map((g) => ({ ...g, values: [] })))}</svg>`;
}
