import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploy, firstReleaseWithUsers, settle, type ReleaseTarget } from './release-scenarios';
import { api, cli, digest, portsEnv, start, stop, tempDir, waitFor, type Proc } from './support';

const dir = tempDir('audit');
const V1 = { digest: digest('4'), version: 'v1' };
const V2 = { digest: digest('5'), version: 'v2' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(21000),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};

interface TimelineEntry {
  type: string;
  occurredAt: string;
  details: Record<string, unknown>;
}

describe('audit of a finished canary release, replayed from the embedded log', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let users: { stop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    host = start('apps/embedded/src/main.ts', env);
    await waitFor(() => host.output().includes('Rollgate is running'), `start:\n${host.output()}`);
    target = {
      orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
      router: env.ROLLGATE_ROUTER_URL,
      token: readFileSync(join(dir, 'admin.token'), 'utf8').trim(),
      service: 'ledger',
      output: () => host.output(),
    };
  });
  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('replays exactly what the API shows, time-travels between canary steps, and the read models match the log', async () => {
    users = (await firstReleaseWithUsers(target, V1, 150)).users;
    const id = await deploy(target, V2, 'canary', { canarySteps: [20, 50], stepSeconds: 8 });
    const live = await settle(target, id, ['succeeded', 'rolled-back', 'paused']);
    expect(live['phase']).toBe('succeeded');
    await users.stop();

    const replayed = await cli(['replay', '--release', id, '--json'], env);
    expect(replayed.code).toBe(0);
    const report = JSON.parse(replayed.output) as {
      view: unknown;
      timeline: TimelineEntry[];
    };
    expect(report.view).toEqual(live);
    const again = await cli(['replay', '--release', id, '--json'], env);
    expect(again.output).toBe(replayed.output);

    // The moment the first canary step passed: its weights, and only its verdict so far.
    const passed = report.timeline.find((e) => e.type === 'ReleaseStepCompleted')!;
    const next = report.timeline.find(
      (e) => e.type === 'ReleaseStepStarted' && e.occurredAt > passed.occurredAt,
    )!;
    expect(next.occurredAt > passed.occurredAt).toBe(true);
    const then = await cli(['replay', '--release', id, '--json', '--at', passed.occurredAt], env);
    const moment = JSON.parse(then.output) as {
      view: { step: number; stepCompleted: boolean; phase: string };
      state: {
        routes: { weights: Record<string, number> }[];
        analyses: { step: number; verdict: { verdict: string } | null }[];
      };
    };
    expect(moment.view).toMatchObject({ phase: 'progressing', stepCompleted: true });
    expect(moment.state.routes.at(-1)!.weights).toMatchObject({ canary: 20 });
    expect(moment.state.analyses.map((a) => a.verdict?.verdict)).toEqual(['PASS']);
    expect(moment.state.analyses[0]!.step).toBe(moment.view.step);

    const text = await cli(['replay', '--release', id], env);
    expect(text.output).toMatch(/AnalysisIntervalScored/);
    expect(text.output).toMatch(/data plane confirmed stable \d+, baseline 20, canary 20/);

    const fromApi = await api(`${target.orchestrator}/releases/${id}/state`, 'GET', undefined);
    expect(fromApi.body['view']).toEqual(live);
    const atApi = await api(
      `${target.orchestrator}/releases/${id}/state?at=${encodeURIComponent(passed.occurredAt)}`,
      'GET',
      undefined,
    );
    expect(atApi.body['view']).toEqual(moment.view);

    const page = join(dir, 'postmortem.html');
    const exported = await cli(['audit', 'export', '--release', id, '--out', page], env);
    expect(exported.code).toBe(0);
    expect(existsSync(page)).toBe(true);
    expect(readFileSync(page, 'utf8')).toContain('<svg id="route-weights"');

    // Every read model is what the log says, once the host has stopped writing.
    await stop(host);
    const verified = await cli(['audit', 'rebuild', '--verify'], env);
    expect(verified.output).toMatch(/^orchestrator: \d+ events; .*; matches the log$/m);
    expect(verified.output).not.toMatch(/difference/);
    expect(verified.code).toBe(0);
  }, 240_000);
});
