import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS } from '@rollgate/contracts';
import { releaseHistory } from '@rollgate/audit';
import { EmbeddedEventLog } from '@rollgate/event-log';
import { parseConfig } from '@rollgate/platform';
import { runCli } from '../program';
import { decodePng } from './testing/png';

/** Debian's chromium, installed by infra/chromium/ensure.sh when missing (npm test calls it). */
function chromium(): string {
  const script = join(__dirname, '..', '..', '..', '..', 'infra', 'chromium', 'ensure.sh');
  return execFileSync('bash', [script], { encoding: 'utf8' }).trim().split('\n').pop()!;
}

function headless(binary: string, dir: string, ...args: string[]): string {
  return execFileSync(
    binary,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--user-data-dir=${join(dir, 'profile')}`,
      ...args,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
  );
}

const hex = (color: string) => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));

describe('rollgate audit export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-export-'));
  const page = join(dir, 'postmortem.html');

  beforeAll(async () => {
    const log = new EmbeddedEventLog({ file: join(dir, 'events.db') });
    await log.ensureTopics(ALL_TOPICS);
    await log.append(
      releaseHistory({
        releaseId: 'rel-pm',
        service: 'checkout',
        start: Date.parse('2026-06-01T12:00:00.000Z'),
        intervalsPerStep: 4,
        fail: true,
      }),
    );
    await log.close();
    let out = '';
    const code = await runCli(['audit', 'export', '--release', 'rel-pm', '--out', page], {
      config: parseConfig({ ROLLGATE_DATA_DIR: dir }),
      output: { out: (t) => (out += t), err: (t) => (out += t) },
    });
    expect(out).toBe(`wrote ${page}: 32 events of release rel-pm\n`);
    expect(code).toBe(0);
  });

  it('opens offline in headless Chromium with every chart drawn', () => {
    const binary = chromium();
    const dom = headless(binary, dir, '--dump-dom', `file://${page}`);
    expect(dom).toContain('<svg id="route-weights"');
    const charts = dom.match(/<svg id="[^"]+" class="chart"/g) ?? [];
    expect(charts).toHaveLength(1 + 3 * 4);
    const paths = dom.match(/<path class="series" data-series="\w+" d="M[\d.,MLHV]+"/g) ?? [];
    expect(paths.length).toBeGreaterThanOrEqual(3 + 3 * 4 * 2);

    const screenshot = join(dir, 'postmortem.png');
    headless(
      binary,
      dir,
      '--window-size=1200,1600',
      `--screenshot=${screenshot}`,
      `file://${page}`,
    );
    expect(existsSync(screenshot)).toBe(true);
    const png = decodePng(readFileSync(screenshot));
    expect(png.width).toBe(1200);
    // Count pixels in the chart colours: the stable (blue) and canary (orange) lines, FAIL markers.
    const count = (color: string) => {
      const [r, g, b] = hex(color);
      let n = 0;
      for (let y = 0; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) {
          const [pr, pg, pb] = png.at(x, y);
          if (Math.abs(pr - r!) < 40 && Math.abs(pg - g!) < 40 && Math.abs(pb - b!) < 40) n++;
        }
      }
      return n;
    };
    expect(count('#2563eb')).toBeGreaterThan(500);
    expect(count('#ea580c')).toBeGreaterThan(1500);
  });
});
