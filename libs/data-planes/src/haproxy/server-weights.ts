import { VERSION_GROUPS, VersionGroup } from '../port';

/** HAProxy accepts server weights from 0 to 256. */
export const HAPROXY_MAX_SERVER_WEIGHT = 256;

/**
 * Server weight of each instance so that each group's SHARE of requests equals its route weight,
 * however many instances each group has. HAProxy's round-robin sends a server
 * `weight / sum of all weights` of the requests, so a group gets `sum of its weights / total`.
 *
 * Each group's total is `routeWeight × k`, which makes the shares exact; `k` is the largest scale
 * at which no server exceeds 256. The total is spread over the group's instances as evenly as
 * integers allow (they differ by at most 1). Exactness wins over evenness: a tiny share spread
 * over many instances can leave some of them at weight 0.
 */
export function serverWeightsByGroup(
  routeWeights: Record<VersionGroup, number>,
  instanceCounts: Partial<Record<VersionGroup, number>>,
): Record<VersionGroup, number[]> {
  const scale = largestExactScale(routeWeights, instanceCounts);
  return Object.fromEntries(
    VERSION_GROUPS.map((group) => [
      group,
      spreadEvenly(routeWeights[group] * scale, instanceCounts[group] ?? 0),
    ]),
  ) as Record<VersionGroup, number[]>;
}

function largestExactScale(
  routeWeights: Record<VersionGroup, number>,
  instanceCounts: Partial<Record<VersionGroup, number>>,
): number {
  const limits = VERSION_GROUPS.filter((group) => routeWeights[group] > 0).map((group) =>
    Math.floor((HAPROXY_MAX_SERVER_WEIGHT * (instanceCounts[group] ?? 0)) / routeWeights[group]),
  );
  return Math.min(...limits);
}

/** `total` split over `parts` integers that differ by at most one, larger ones first. */
export function spreadEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const remainder = total - base * parts;
  return Array.from({ length: parts }, (_, index) => base + (index < remainder ? 1 : 0));
}

/** Percent of requests per group implied by server weights (two decimals); all 0 when nothing can serve. */
export function sharesFromServerWeights(
  weightsByGroup: Partial<Record<VersionGroup, number[]>>,
): Record<VersionGroup, number> {
  const totals = VERSION_GROUPS.map((group) => sum(weightsByGroup[group] ?? []));
  const total = sum(totals);
  return Object.fromEntries(
    VERSION_GROUPS.map((group, i) => [
      group,
      total === 0 ? 0 : Math.round((totals[i] * 10000) / total) / 100,
    ]),
  ) as Record<VersionGroup, number>;
}

function sum(values: number[]): number {
  return values.reduce((acc, value) => acc + value, 0);
}
