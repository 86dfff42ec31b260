import {
  EVENT_TYPE_GLOB_PATTERN,
  type EventEnvelope,
  type WebhookFormat,
} from '@rollgate/contracts';

/** Release milestones a `slack` subscription posts: started, succeeded, rolled back, drift. */
export const SLACK_MILESTONES = [
  'ReleaseRequested',
  'ReleaseSucceeded',
  'ReleaseRolledBack',
  'FleetDriftDetected',
] as const;

const GLOB = new RegExp(EVENT_TYPE_GLOB_PATTERN);

/** `Release*` → /^Release.*$/: `*` any run of characters, `?` one; the rest is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.\\-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export interface FilterProblem {
  field: string;
  problem: string;
}

/**
 * Checks event-type globs against the grammar and the published types: a glob that matches no
 * published type is a typo, refused rather than silently delivering nothing.
 */
export function filterProblems(
  types: readonly string[],
  publishedTypes: readonly string[],
  format: WebhookFormat,
): FilterProblem[] {
  const problems: FilterProblem[] = [];
  types.forEach((glob, index) => {
    const field = `types[${index}]`;
    if (!GLOB.test(glob)) {
      problems.push({
        field,
        problem: 'must be 1-100 of letters, digits, ".", "_", "-", "*" (any run) or "?" (one)',
      });
      return;
    }
    const pattern = globToRegExp(glob);
    if (!publishedTypes.some((type) => pattern.test(type)))
      problems.push({ field, problem: `matches no published event type (${glob})` });
  });
  if (
    problems.length === 0 &&
    format === 'slack' &&
    !SLACK_MILESTONES.some((type) => types.some((glob) => globToRegExp(glob).test(type)))
  ) {
    problems.push({
      field: 'types',
      problem: `format slack posts release milestones only: match one of ${SLACK_MILESTONES.join(', ')}`,
    });
  }
  return problems;
}

/** What decides whether an event goes to a subscription. */
export interface SubscriptionFilter {
  types: readonly string[];
  service: string | null;
  format: WebhookFormat;
}

/** The service an event is about: `data.service` when it has one, else its key. */
export function serviceOf(event: Pick<EventEnvelope, 'data' | 'key'>): string {
  const service = (event.data as { service?: unknown } | null)?.service;
  return typeof service === 'string' ? service : event.key;
}

export function compileFilter(filter: SubscriptionFilter): (event: EventEnvelope) => boolean {
  const patterns = filter.types.map(globToRegExp);
  return (event) =>
    patterns.some((pattern) => pattern.test(event.type)) &&
    (filter.service === null || serviceOf(event) === filter.service) &&
    (filter.format !== 'slack' || (SLACK_MILESTONES as readonly string[]).includes(event.type));
}
