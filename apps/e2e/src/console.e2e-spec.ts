import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { issueToken, revokeToken, sha256Hex } from '@rollgate/platform';
import { createTestDatabase } from '@rollgate/platform/testing';
import { deploy, embeddedTarget, route, type ReleaseTarget } from './release-scenarios';
import {
  api,
  digest,
  portsEnv,
  ROOT,
  stop,
  tempDir,
  traffic,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

/**
 * The web console (apps/console) in a real headless Chromium against the embedded host: every
 * page is driven as a user would, and what it shows is compared with what the REST API says.
 */
const base = 23_400;
const dir = tempDir('console');
const shots = mkdtempSync(join(tmpdir(), 'rollgate-console-shots-'));
const V1 = { digest: digest('1'), version: 'v1' };
const V2 = { digest: digest('2'), version: 'v2' };
const V3 = { digest: digest('3'), version: 'v3' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify(
    Object.fromEntries([V1, V2, V3].map((b) => [b.digest, { errorRate: 0.002, latencyMs: 5 }])),
  ),
);
const tokensFile = join(dir, 'tokens.json');
const consoleUrl = `http://127.0.0.1:${base + 6}`;

function chromiumBinary(): string {
  return execFileSync('bash', [join(ROOT, 'infra/chromium/ensure.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
}

async function signIn(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/signin`);
  await page.getByLabel('Rollgate token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Releases' }).waitFor();
  return page;
}

async function axe(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = (await page.evaluate(() =>
    (
      globalThis as unknown as {
        axe: { run: (o: object) => Promise<{ violations: { id: string; impact: string }[] }> };
      }
    ).axe.run({ resultTypes: ['violations'] }),
  )) as { violations: { id: string; impact: string; nodes?: unknown[] }[] };
  const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  expect({ what, serious: serious.map((v) => `${v.impact} ${v.id}`) }).toEqual({
    what,
    serious: [],
  });
}

/** Waits until the release page shows a phase (its text exactly, or matching a pattern). */
async function phaseShown(page: Page, phase: string | RegExp, timeout = 30_000): Promise<void> {
  const pattern = typeof phase === 'string' ? new RegExp(`^${phase}$`) : phase;
  await page.getByTestId('phase').filter({ hasText: pattern }).waitFor({ timeout });
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

describe('web console (apps/console) in a headless Chromium', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let users: { stop: () => Promise<void> } | undefined;
  let database: { url: string; drop: () => Promise<void> };
  let goodRelease = '';
  let env: Record<string, string> & {
    ROLLGATE_ORCHESTRATOR_URL: string;
    ROLLGATE_ROUTER_URL: string;
  };
  /** Ends a test's release so the next test can start one for the same service. */
  const abortAndWait = async (id: string) => {
    await api(`${target.orchestrator}/releases/${id}/abort`, 'POST', target.token, {
      reason: 'cleanup',
    });
    await waitForPhase(target.orchestrator, id, ['aborted', 'rolled-back']);
  };

  beforeAll(async () => {
    database = await createTestDatabase('console_');
    const pool = new Pool({ connectionString: database.url, max: 1 });
    await pool.query(`
      CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, amount text NOT NULL);
      INSERT INTO users (email, amount) SELECT 'u' || g, g::text FROM generate_series(1, 3000) g;`);
    await pool.end();
    env = {
      ...portsEnv(base),
      ROLLGATE_CONSOLE_PORT: String(base + 6),
      ROLLGATE_DATA_DIR: join(dir, 'data'),
      ROLLGATE_TOKENS_FILE: tokensFile,
      ROLLGATE_FLEET_PROFILES: profiles,
      ROLLGATE_MIGRATION_DATABASES: new URL(database.url).pathname.slice(1),
      // The analysis is not under test here: a loaded test machine must not fail the good build.
      ROLLGATE_ANALYSIS_MIN_REQUESTS: '30',
      ROLLGATE_ANALYSIS_FALLBACK_MAX_P99_MS: '60000',
    };
    ({ host, target } = await embeddedTarget(env, 'shop'));
    expect(host.output()).toContain(`console       ${consoleUrl}`);
    const first = await deploy(target, V1, 'canary', {}, true);
    await waitForPhase(target.orchestrator, first, ['succeeded']);
    users = traffic((await route(target)).endpoint.port, 150);
    browser = await chromium.launch({
      executablePath: chromiumBinary(),
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    // axe-core is injected as a script: the console's CSP would (rightly) refuse it otherwise.
    admin = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    page = await signIn(admin, target.token);
  }, 120_000);

  afterAll(async () => {
    await users?.stop();
    await browser?.close();
    if (host) await stop(host);
    await database?.drop();
  });

  it('signs in with a token kept out of the page: an http-only cookie holds only a session id', async () => {
    const cookies = await admin.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'rollgate_console', httpOnly: true, sameSite: 'Strict' }),
    ]);
    expect(cookies[0]!.value).not.toContain(target.token);
    expect(await page.evaluate('JSON.stringify(localStorage)')).toBe('{}');
    expect(page.url()).not.toContain(target.token);
    await expect(page.getByTestId('subject').textContent()).resolves.toBe('local-admin');
    await page.locator('tr[data-service="shop"]').waitFor();
    await axe(page, 'releases list');
    await shot(page, 'releases');
  });

  it('watches a good canary promote live, step by step, without a reload', async () => {
    goodRelease = await deploy(target, V2, 'canary', { canarySteps: [50], stepSeconds: 6 });
    await page.goto(`${consoleUrl}/releases/${goodRelease}`);
    await page.getByTestId('phase').waitFor();
    expect(await page.getByTestId('phase').textContent()).toBe('progressing');
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    // A screenshot of the release in flight, once it has a few intervals (best effort: the
    // release may pass its step sooner on a fast machine).
    await page
      .locator('.intervals > li')
      .nth(1)
      .waitFor({ state: 'attached', timeout: 60_000 })
      .catch(() => undefined);
    await shot(page, 'release-live');
    // Seen by the API, then by the page: a live update, not a reload.
    const done = await waitForPhase(
      target.orchestrator,
      goodRelease,
      ['succeeded', 'rolled-back', 'aborted'],
      150_000,
    );
    const apiSawIt = Date.now();
    await phaseShown(page, 'succeeded', 5_000);
    console.log(`console showed 'succeeded' ${Date.now() - apiSawIt} ms after the API poll saw it`);
    expect(navigations).toEqual([]);
    expect(done).toMatchObject({ phase: 'succeeded', version: 'v2' });
    // Every event on the timeline names its actor.
    const actors = await page.locator('.timeline li .actor').allTextContents();
    expect(actors.length).toBeGreaterThan(5);
    expect(actors).toEqual(expect.arrayContaining(['user:local-admin', 'service:orchestrator']));
    await page.locator('.analysis').first().waitFor();
    expect(await page.locator('.analysis figure.chart').count()).toBeGreaterThanOrEqual(4);
    await axe(page, 'release page');
    await shot(page, 'release');
  }, 200_000);

  it('scrubs the finished release back to its first step, as GET /releases/:id/state?at= has it', async () => {
    await page.goto(`${consoleUrl}/releases/${goodRelease}`);
    const slider = page.getByLabel(/Moment/);
    await page.locator('.timeline li').first().waitFor();
    await slider.focus();
    // Home is the request (no step yet); the keyboard walks on to the moment step 0 started.
    await page.keyboard.press('Home');
    await page.waitForURL(/\?at=/);
    for (let i = 0; i < 5 && (await page.getByTestId('step').textContent()) !== '0'; i++) {
      const before = page.url();
      await page.keyboard.press('ArrowRight');
      await page.waitForURL((u) => u.toString() !== before);
      await page.waitForTimeout(300);
    }
    const at = new URL(page.url()).searchParams.get('at')!;
    const state = await api(
      `${target.orchestrator}/releases/${goodRelease}/state?at=${encodeURIComponent(at)}`,
      'GET',
      target.token,
    );
    const timeline = await api(
      `${target.orchestrator}/releases/${goodRelease}/timeline?at=${encodeURIComponent(at)}`,
      'GET',
      target.token,
    );
    const view = state.body['view'] as Record<string, unknown>;
    expect(view['step']).toBe(0);
    const expectPage = async (p: Page) => {
      await phaseShown(p, String(view['phase']));
      expect(await p.getByTestId('step').textContent()).toBe(String(view['step']));
      const routes = (state.body['state'] as { routes: { weights: Record<string, number> }[] })
        .routes;
      const weights = Object.entries(routes[routes.length - 1]?.weights ?? {})
        .filter(([, w]) => w > 0)
        .map(([g, w]) => `${g} ${w}`)
        .join(', ');
      expect(await p.getByTestId('weights').textContent()).toBe(weights || 'none yet');
      expect(await p.locator('.timeline li').count()).toBe(
        (timeline.body['timeline'] as unknown[]).length,
      );
      expect(await p.locator('[data-action]').count()).toBe(0);
    };
    await expectPage(page);
    // The link is the moment: opened fresh, it shows the same.
    const fresh = await admin.newPage();
    await fresh.goto(`${consoleUrl}/releases/${goodRelease}?at=${encodeURIComponent(at)}`);
    await fresh.locator('.timeline li').first().waitFor();
    await expectPage(fresh);
    await fresh.close();
  });

  it('aborts a release with a click and the route returns to stable', async () => {
    const id = await deploy(target, V3, 'canary', { canarySteps: [30], stepSeconds: 600 });
    await waitFor(
      async () => ((await route(target)).weights['canary'] ?? 0) > 0,
      'the canary to take traffic',
    );
    await page.goto(`${consoleUrl}/releases/${id}`);
    const abort = page.getByRole('button', { name: 'Abort', exact: true });
    await abort.waitFor();
    expect(await abort.isEnabled()).toBe(true);
    await abort.click();
    await page.getByLabel('Reason to abort').fill('console e2e: abort drill');
    await page.getByRole('button', { name: 'Confirm abort' }).click();
    await page.getByRole('status').filter({ hasText: 'abort accepted' }).waitFor();
    await phaseShown(page, /^(aborted|rolled-back)$/);
    await waitFor(
      async () => (await route(target)).weights['stable'] === 100,
      'the route to return to stable',
    );
    expect((await route(target)).weights).toMatchObject({ stable: 100, canary: 0 });
    // A finished release accepts no action: the buttons say so.
    await waitFor(
      async () => (await page.locator('[data-action]:not([disabled])').count()) === 0,
      'every action button to be disabled',
      10_000,
    );
    expect(await page.locator('[data-action]').count()).toBe(5);
  }, 120_000);

  it('reconnects after a restart of the services and catches up from the last event seen', async () => {
    const id = await deploy(target, V3, 'canary', { canarySteps: [30], stepSeconds: 600 });
    await page.goto(`${consoleUrl}/releases/${id}`);
    await page.locator('.timeline li').first().waitFor();
    await page.locator('.live', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    expect(await stop(host)).toBe(0);
    await page
      .locator('.live', { hasText: /reconnecting|unreachable/ })
      .waitFor({ timeout: 10_000 });
    ({ host, target } = await embeddedTarget(env, 'shop'));
    await waitFor(
      async () => (await fetch(`${consoleUrl}/health`)).ok,
      'the console to answer after the restart',
    );
    // The sign-in survives the restart (sealed cookie); the stream resumes with Last-Event-ID.
    const paused = await api(`${target.orchestrator}/releases/${id}/pause`, 'POST', target.token, {
      reason: 'paused while the console reconnected',
    });
    expect(paused.status).toBe(200);
    await phaseShown(page, 'paused', 20_000);
    await page
      .locator('.timeline li', { hasText: 'paused while the console reconnected' })
      .waitFor();
    const timeline = await api(
      `${target.orchestrator}/releases/${id}/timeline`,
      'GET',
      target.token,
    );
    const numbers = await Promise.all(
      (await page.locator('.timeline li').all()).map(async (li) =>
        Number(await li.getAttribute('data-n')),
      ),
    );
    // Nothing twice, nothing missing: exactly the log's timeline, in order.
    expect(numbers).toEqual(
      (timeline.body['timeline'] as { n: number }[]).map((e) => e.n).slice(0, numbers.length),
    );
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(await page.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(false);
    await abortAndWait(id);
  }, 180_000);

  it('refuses a wrong-scope token: no buttons, and the API says no to a forged call', async () => {
    const reader = issueToken(tokensFile, { subject: 'reader', scopes: ['read'] });
    const id = await deploy(target, V2, 'canary', { canarySteps: [30], stepSeconds: 600 });
    const context = await browser.newContext({ bypassCSP: true });
    const readerPage = await signIn(context, reader);
    await readerPage.goto(`${consoleUrl}/releases/${id}`);
    await readerPage.getByTestId('phase').waitFor();
    expect(await readerPage.locator('[data-action]').count()).toBe(0);
    // The same call a button makes, from the page with the reader's session: the API refuses.
    const answer = await readerPage.evaluate(async (releaseId) => {
      const response = await fetch(`/api/orchestrator/releases/${releaseId}/abort`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rollgate-console': '1' },
        body: JSON.stringify({ reason: 'forged' }),
      });
      return { status: response.status, body: (await response.json()) as { message: string } };
    }, id);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toBe('token of reader lacks scope deploy');
    expect(
      (await api(`${target.orchestrator}/releases/${id}`, 'GET', undefined)).body,
    ).toMatchObject({ phase: 'progressing' });
    // A sign-in with a token the API does not know shows its refusal.
    const stranger = await context.newPage();
    await stranger.goto(`${consoleUrl}/signin`);
    await stranger.getByRole('button', { name: 'Sign out' }).click();
    await stranger.getByLabel('Rollgate token').fill('rg_not-a-token');
    await stranger.getByRole('button', { name: 'Sign in' }).click();
    await expect(stranger.getByRole('alert').textContent()).resolves.toMatch(/^401: /);
    await context.close();
    await abortAndWait(id);
  }, 60_000);

  it("shows the API's own refusal after a click: the token was revoked while the page was open", async () => {
    const onCall = issueToken(tokensFile, { subject: 'on-call', scopes: ['deploy', 'read'] });
    const id = await deploy(target, V2, 'canary', { canarySteps: [30], stepSeconds: 600 });
    const context = await browser.newContext({ bypassCSP: true });
    const onCallPage = await signIn(context, onCall);
    await onCallPage.goto(`${consoleUrl}/releases/${id}`);
    await phaseShown(onCallPage, 'progressing');
    const pause = onCallPage.getByRole('button', { name: 'Pause', exact: true });
    expect(await pause.isEnabled()).toBe(true);
    // Revoked outside the browser, as `rollgate token revoke` does; the sealed cookie still holds
    // the token, so the click is a REST call the API itself refuses.
    revokeToken(tokensFile, sha256Hex(onCall).slice(0, 12));
    await pause.click();
    await onCallPage.getByLabel('Reason to pause').fill('console e2e: revoked token');
    await onCallPage.getByRole('button', { name: 'Confirm pause' }).click();
    const alert = onCallPage.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('pause refused: 401: unknown or revoked token');
    expect(await onCallPage.getByRole('status').filter({ hasText: 'accepted' }).count()).toBe(0);
    expect(
      (await api(`${target.orchestrator}/releases/${id}`, 'GET', target.token)).body,
    ).toMatchObject({ phase: 'progressing' });
    await context.close();
    await abortAndWait(id);
  }, 60_000);

  it("lists the projects, writes each flag's rules, follows changes made elsewhere, and kills a flag", async () => {
    const flags = `http://127.0.0.1:${base + 4}`;
    const q = '?project=web';
    const send = async (method: 'POST' | 'PUT', path: string, body: object) =>
      (
        await fetch(`${flags}${path}`, {
          method,
          headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).status;
    expect(await send('POST', '/flags/projects', { name: 'web', reason: 'console e2e' })).toBe(201);
    expect(
      await send('PUT', `/flags/segments/staff${q}`, {
        constraints: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@shop.example'] }],
      }),
    ).toBe(200);
    expect(
      await send('POST', '/flags', {
        project: 'web',
        key: 'new-checkout',
        type: 'release',
        owner: 'team-shop',
      }),
    ).toBe(201);
    expect(
      await send('PUT', `/flags/new-checkout/environments/production${q}`, {
        enabled: true,
        rules: [
          {
            segments: ['staff'],
            constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta', 'pro'] }],
            rollout: 50,
          },
        ],
      }),
    ).toBe(200);
    expect(
      await send('POST', `/flags/new-checkout/guarded-rollout${q}`, {
        environment: 'production',
        steps: [10, 50],
        stepSeconds: 600,
      }),
    ).toBe(201);
    await page.goto(`${consoleUrl}/flags`);
    // The project is picked from the list GET /flags/projects gives, not typed.
    const projects = page.getByLabel('Project');
    await projects.locator('option[value="web"]').waitFor({ state: 'attached' });
    await projects.selectOption('web');
    const row = page.locator('[data-flag="new-checkout"] tr[data-env="production"]');
    await row.locator('progress').waitFor();
    expect(await row.getByTestId('flag-state').textContent()).toBe('on');
    expect(await row.getByTestId('flag-rules').textContent()).toBe(
      'segment staff and plan IN [beta, pro] → on for 50%',
    );
    await shot(page, 'flags');
    await axe(page, 'flags page');

    // Live: a change through the REST API, not the browser, shows up without a reload.
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const staging = page.locator('[data-flag="new-checkout"] tr[data-env="staging"]');
    expect(await staging.getByTestId('flag-rollout').textContent()).toBe('—');
    const changed = Date.now();
    expect(
      await send('POST', `/flags/new-checkout/rollout${q}`, {
        environment: 'staging',
        percentage: 30,
      }),
    ).toBe(200);
    await waitFor(
      async () => (await staging.getByTestId('flag-rollout').textContent()) === '30%',
      'the page to show the rollout set through the API',
      5_000,
    );
    console.log(`the flags page showed a change made elsewhere after ${Date.now() - changed} ms`);
    expect(navigations).toEqual([]);

    await row.getByRole('button', { name: 'Kill in production' }).click();
    await page.getByLabel(/Reason to kill new-checkout/).fill('console e2e: kill drill');
    await page.getByRole('button', { name: 'Confirm kill' }).click();
    await page.getByRole('status').filter({ hasText: 'killed' }).waitFor();
    await waitFor(
      async () => (await row.getByTestId('flag-state').textContent()) === 'off',
      'the page to show the flag off',
      10_000,
    );
    const flag = await api(`${flags}/flags/new-checkout${q}`, 'GET', target.token);
    const envs = (flag.body['definition'] as { environments: Record<string, { enabled: boolean }> })
      .environments;
    expect(envs['production']!.enabled).toBe(false);
  }, 60_000);

  it("shows a migration's phase, backfill progress and the fleet gate", async () => {
    const migrations = `http://127.0.0.1:${base + 5}`;
    const planned = await api(`${migrations}/migrations`, 'POST', target.token, {
      database: new URL(database.url).pathname.slice(1),
      plan: {
        name: 'retype_amount',
        service: 'shop',
        versions: { old: ['v2'], new: ['v3'] },
        backfill: { batchSize: 500, pauseMs: 0 },
        operations: [
          {
            op: 'changeType',
            table: 'users',
            column: 'amount',
            type: 'integer',
            up: 'amount::integer',
            down: 'amount::text',
          },
        ],
      },
    });
    expect(planned.status).toBe(201);
    const id = planned.body['migrationId'] as string;
    expect(
      (await api(`${migrations}/migrations/${id}/start`, 'POST', target.token, {})).status,
    ).toBe(202);
    await page.goto(`${consoleUrl}/migrations`);
    const card = page.locator(`[data-migration="${id}"]`);
    await waitFor(
      async () => (await card.getByTestId('migration-status').textContent()) === 'migrated',
      'the page to show the migration migrated',
      30_000,
    );
    expect(await card.getByTestId('backfill-pct').textContent()).toBe('100%');
    expect(await card.locator('progress').getAttribute('value')).toBe('100');
    // The stable build is v2: its instances block contract, and the page names them.
    await card.getByText('Contract is blocked by live instances of old versions').waitFor();
    expect(await card.locator('li', { hasText: 'runs v2' }).count()).toBeGreaterThan(0);
    await axe(page, 'migrations page');
  }, 60_000);

  it('renders a release page of 60 intervals × 4 metrics (time printed, not asserted)', async () => {
    // The intervals of the good release, repeated to 60: the page's own data, at scale.
    const real = await api(
      `${target.orchestrator}/releases/${goodRelease}/state`,
      'GET',
      target.token,
    );
    const state = real.body['state'] as { analyses: { intervals: unknown[] }[] };
    const sample = state.analyses[0]!.intervals;
    expect(sample.length).toBeGreaterThan(0);
    state.analyses = [
      {
        ...state.analyses[0]!,
        intervals: Array.from({ length: 60 }, (_, n) => ({
          ...(sample[n % sample.length] as object),
          interval: n,
        })),
      },
    ];
    const big = await admin.newPage();
    await big.route(`**/api/orchestrator/releases/${goodRelease}/state`, (r) =>
      r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(real.body) }),
    );
    await big.goto(`${consoleUrl}/releases/${goodRelease}`);
    await big.locator('body[data-release-rendered-ms]').waitFor({ state: 'attached' });
    const ms = await big.locator('body').getAttribute('data-release-rendered-ms');
    console.log(`release page with 60 intervals x 4 metrics rendered in ${ms} ms`);
    expect(await big.locator('figure.chart').count()).toBe(4);
    expect(await big.locator('.intervals > li').count()).toBe(60);
    await big.close();
    await page.goto(`${consoleUrl}/releases`);
    await page.locator('tr[data-service="shop"]').waitFor();
    await shot(page, 'releases-after');
  });
});
