import type { CanaryConfig, ConfigProblem } from './canary-config';
import { renderQuery } from './canary-config';

/** Prometheus could not be asked: the config can be neither accepted nor refused. */
export class PrometheusUnavailableError extends Error {}

const CHECK_TIMEOUT_MS = 5_000;

/**
 * Asks Prometheus to parse each metric's PromQL: an instant query at `time`, with the
 * placeholders replaced by sample values. A parse error (HTTP 400, `bad_data`) is a problem at
 * the metric's path; an empty result is fine (the series may not exist yet).
 */
export class PromqlCheck {
  constructor(private readonly prometheusUrl: string) {}

  async problems(config: CanaryConfig, service: string, at = new Date()): Promise<ConfigProblem[]> {
    const templates = [
      ...config.metrics.map((metric, i) => ({
        field: `metrics[${i}].query.prometheus`,
        template: metric.query.prometheus,
      })),
      { field: 'requests.prometheus', template: config.requests?.prometheus },
    ];
    const problems: ConfigProblem[] = [];
    for (const { field, template } of templates) {
      if (template === undefined) continue;
      const query = renderQuery(template, {
        service,
        group: 'canary',
        version: 'v0',
        interval: '60s',
      });
      const problem = await this.parseError(query, at);
      if (problem) problems.push({ field, problem });
    }
    return problems;
  }

  private async parseError(query: string, at: Date): Promise<string | null> {
    const url = new URL(`${this.prometheusUrl}/api/v1/query`);
    url.searchParams.set('query', query);
    url.searchParams.set('time', (at.getTime() / 1000).toFixed(3));
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    } catch (error) {
      throw new PrometheusUnavailableError(
        `Prometheus at ${this.prometheusUrl} is unreachable (${error instanceof Error ? error.message : String(error)}); the PromQL cannot be checked`,
      );
    }
    const body = (await response.json().catch(() => null)) as {
      errorType?: string;
      error?: string;
    } | null;
    if (response.ok) return null;
    if (response.status === 400 && body?.errorType === 'bad_data')
      return `Prometheus rejects the query: ${body.error ?? 'bad_data'}`;
    throw new PrometheusUnavailableError(
      `Prometheus at ${this.prometheusUrl} answered ${response.status}${body?.error ? ` (${body.error})` : ''}; the PromQL cannot be checked`,
    );
  }
}
