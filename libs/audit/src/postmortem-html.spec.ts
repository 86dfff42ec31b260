import { renderPostmortemHtml } from './postmortem-html';
import { replayReport } from './audit-subjects';
import { asLogged, releaseHistory } from './testing/release-history';

const events = asLogged(
  releaseHistory({
    releaseId: 'r-pm',
    service: 'checkout',
    start: Date.parse('2026-03-01T10:00:00.000Z'),
    fail: true,
  }),
);

describe('postmortem page', () => {
  const html = renderPostmortemHtml(replayReport({ kind: 'release', id: 'r-pm' }, events));

  it('draws route weights and a baseline-vs-canary chart per metric and step, with each verdict', () => {
    expect(html).toContain('<svg id="route-weights"');
    for (const step of [0, 1, 2]) {
      for (const metric of ['error-rate', 'p50', 'p99', 'requests']) {
        expect(html).toContain(`<svg id="run-r-pm-run-${step}-${metric}"`);
      }
    }
    expect(html).not.toContain('run-r-pm-run-0-saturation');
    expect(html.match(/<path class="series" data-series="canary"/g)?.length).toBe(3 * 4 + 1);
    expect(html).toMatch(
      /<rect class="verdict"[^>]*fill="#dc2626"><title>interval 0: FAIL \(score 10\)/,
    );
    expect(html).toContain('Outcome'.toLowerCase());
    expect(html).toContain('<td>rolled-back</td>');
  });

  it('needs nothing from the network and escapes what the log says', () => {
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html.replace(/xmlns="http:\/\/www.w3.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
    const hostile = asLogged(
      releaseHistory({ releaseId: '<b>x</b>', service: 'checkout', start: 0 }),
    );
    const page = renderPostmortemHtml(replayReport({ kind: 'release', id: '<b>x</b>' }, hostile));
    expect(page).not.toContain('<b>x</b>');
    expect(page).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('is byte-identical for the same log', () => {
    const again = renderPostmortemHtml(
      replayReport({ kind: 'release', id: 'r-pm' }, [...events].reverse()),
    );
    expect(again).toBe(html);
  });
});

describe('postmortem page and replay: canary config metrics', () => {
  const withMetrics = events.map((logged) =>
    logged.event.type === 'AnalysisIntervalScored'
      ? {
          ...logged,
          event: {
            ...logged.event,
            data: {
              ...(logged.event.data as object),
              judge: 'sequential',
              canaryConfig: { name: 'checkout', version: 3 },
              metrics: [
                {
                  name: 'checkouts',
                  measuredBy: 'embedded',
                  canary: 1.25,
                  baseline: 22.4,
                  classification: 'Low',
                },
                {
                  name: 'refunds',
                  measuredBy: 'prometheus',
                  baseline: 0.5,
                  problem: 'canary: the query returned nothing',
                },
              ],
            },
          },
        }
      : logged,
  );
  const report = replayReport({ kind: 'release', id: 'r-pm' }, withMetrics);

  it('shows who judged each interval and every metric, with no data where a query returned nothing', () => {
    const html = renderPostmortemHtml(report);
    expect(html).toContain('<th>judged by, metrics</th>');
    expect(html).toContain(
      '<td>sequential; canary config checkout v3; checkouts (embedded): canary 1.25, baseline 22.4 → Low; refunds (prometheus): canary no data, baseline 0.5</td>',
    );
    const scored = report.timeline.filter((e) => e.type === 'AnalysisIntervalScored');
    expect(scored[0]!.summary).toContain(
      '(canary config checkout v3): canary 1/100 errors (1.00%), p50 12 ms, p99 40 ms; baseline 1/100 errors (1.00%), p50 11 ms, p99 38 ms; metrics: checkouts (embedded): canary 1.25, baseline 22.4 → Low; refunds (prometheus): canary no data, baseline 0.5',
    );
  });
});
