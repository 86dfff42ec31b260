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
