import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedTarget, deploy, type Build, type ReleaseTarget } from './release-scenarios';
import {
  api,
  digest,
  portsEnv,
  releaseTimeline,
  releaseView,
  stop,
  tempDir,
  traffic,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const V1: Build = { digest: digest('d'), version: 'v1' };
const V2: Build = { digest: digest('e'), version: 'v2' };
const V3: Build = { digest: digest('f'), version: 'v3' };
// The bad build: one request in four fails.
const BAD: Build = { digest: digest('0'), version: 'bad' };
const dir = tempDir('crash-analysis');
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V3.digest]: { errorRate: 0.002, latencyMs: 5 },
    [BAD.digest]: { errorRate: 0.25, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(19700),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};
// Two analysed canary steps of 6 s each (intervals of 2 s), then the promotion.
const PLAN = { canarySteps: [20, 50], stepSeconds: 6 };
const USERS_PER_SECOND = 150;
const TERMINAL = ['succeeded', 'rolled-back', 'aborted', 'paused'];

interface Kill {
  version: string;
  step: number;
  delayMs: number;
}

describe('kill -9 of the embedded host during canary analysis', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let users: ReturnType<typeof traffic> | undefined;
  const kills: Kill[] = [];

  /** Users call the service through the proxy, whose port is new in every process life. */
  const startUsers = async () => {
    await users?.stop();
    let port = 0;
    await waitFor(async () => {
      const route = await api(`${target.router}/routes/${target.service}`, 'GET', undefined);
      port = (route.body['endpoint'] as { port?: number } | undefined)?.port ?? 0;
      return route.status === 200 && port > 0;
    }, `route of ${target.service}`);
    users = traffic(port, USERS_PER_SECOND);
  };

  const boot = async () => {
    ({ host, target } = await embeddedTarget(env, 'ledger'));
  };

  /**
   * The canary step whose analysis runs now (requested, no verdict yet); `over` once the release
   * is past its canary steps, `between` while a step sets up its instances and route.
   */
  const analysedStep = async (releaseId: string): Promise<number | 'over' | 'between'> => {
    const view = await releaseView(target.orchestrator, releaseId);
    const step = Number(view['step']);
    if (view['phase'] !== 'progressing' || step >= PLAN.canarySteps.length) return 'over';
    const timeline = await releaseTimeline(target.orchestrator, target.token, releaseId);
    const concluded = timeline
      .filter((e) => e.type === 'AnalysisVerdictReached')
      .map((e) => e.details['analysisRunId']);
    const requested = timeline.find(
      (e) => e.type === 'AnalysisRequested' && e.details['step'] === step,
    );
    const running = requested && !concluded.includes(requested.details['analysisRunId']);
    return running ? step : 'between';
  };

  /**
   * Kills the host at a random moment, up to `maxDelayMs` into a canary step's analysis, and
   * boots it again; false when the release was past its canary steps first.
   */
  const killDuringAnalysis = async (releaseId: string, version: string, maxDelayMs: number) => {
    for (;;) {
      await waitFor(
        async () => (await analysedStep(releaseId)) !== 'between',
        `an analysis of release ${releaseId}`,
      );
      const delayMs = Math.round(Math.random() * maxDelayMs);
      await new Promise((r) => setTimeout(r, delayMs));
      const step = await analysedStep(releaseId);
      if (step === 'over') return false;
      if (step === 'between') continue;
      await stop(host, 'SIGKILL');
      kills.push({ version, step, delayMs });
      await boot();
      await startUsers();
      return true;
    }
  };

  /** Releases `build` and kills the host up to `times` times while its canary is analysed. */
  const releaseWithKills = async (build: Build, times: number, maxDelayMs: number) => {
    const releaseId = await deploy(target, build, 'canary', PLAN);
    let killed = 0;
    while (killed < times && (await killDuringAnalysis(releaseId, build.version, maxDelayMs)))
      killed++;
    const ended = await waitForPhase(target.orchestrator, releaseId, TERMINAL, 150_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nkills: ${JSON.stringify(kills)}\n${host.output()}`);
      },
    );
    const timeline = await releaseTimeline(target.orchestrator, target.token, releaseId);
    const stepsOf = (type: string) =>
      timeline.filter((e) => e.type === type).map((e) => Number(e.details['step']));
    return {
      ended,
      outcome: { phase: ended['phase'], reason: ended['reason'] ?? null },
      started: stepsOf('ReleaseStepStarted'),
      completed: stepsOf('ReleaseStepCompleted'),
      types: timeline.map((e) => e.type),
    };
  };

  beforeAll(async () => {
    await boot();
    const first = await api(`${target.orchestrator}/releases`, 'POST', target.token, {
      service: target.service,
      artifact: { name: target.service, digest: V1.digest },
      version: V1.version,
      first: true,
    });
    expect(first.status).toBe(201);
    await waitForPhase(target.orchestrator, first.body['releaseId'] as string, ['succeeded']);
    await startUsers();
  });

  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('promotes every healthy build killed 5+ times mid-analysis, each step done once', async () => {
    const runs = [];
    // Healthy releases, alternating two builds, until the host was killed six times.
    while (kills.length < 6 && runs.length < 4) {
      const build: Build = runs.length % 2 === 0 ? V2 : V3;
      runs.push({ build, ...(await releaseWithKills(build, 3, 4_000)) });
    }

    for (const run of runs) {
      expect({ version: run.build.version, ...run.outcome }).toEqual({
        version: run.build.version,
        phase: 'succeeded',
        reason: null,
      });
      // Canary 20%, canary 50%, promotion: each started and completed exactly once.
      expect(run.started).toEqual([0, 1, 2]);
      expect(run.completed).toEqual([0, 1, 2]);
    }
    expect(kills.length).toBeGreaterThanOrEqual(5);
    const succeeded = runs.filter((r) => r.outcome.phase === 'succeeded').length;
    console.log(
      `crash during analysis: ${kills.length} kills over ${runs.length} healthy releases, ${succeeded} succeeded; kills ${JSON.stringify(kills)}`,
    );
  }, 300_000);

  it('still rolls back a bad build killed the same way', async () => {
    const before = kills.length;
    const run = await releaseWithKills(BAD, 1, 1_500);

    expect(kills.length).toBe(before + 1);
    expect(run.ended['phase']).toBe('rolled-back');
    expect(String(run.ended['reason'])).toMatch(/analysis FAIL at step 0/);
    expect(run.types).not.toContain('ReleaseSucceeded');
    expect(run.completed).toEqual([]);
    console.log(`crash during analysis: the bad build, killed once, ended ${run.ended['phase']}`);
  }, 120_000);
});
