import { createRandom, fisherExactOneSided } from '@rollgate/stats';
import { SequentialJudge } from './sequential-judge';

/**
 * Property: however often the sequential judge is asked, a healthy canary FAILs with probability
 * at most α. Simulated: healthy runs (a 2% error rate in both groups, one 0/1 value per request,
 * all of α on that one metric, so the bound is as tight as it gets), a look after every interval
 * of 10 + 10 requests, up to 200 looks or the first PASS or FAIL. Seeded, so the counts are
 * reproducible; the bound itself is what is tested, with no tuning to the seed. (Sharing α across
 * metrics only adds a union bound on top.)
 */
const RUNS = 2000;
const LOOKS = 200;
const PER_LOOK = 10;
const ALPHA = 0.01;

interface Simulated {
  sequentialFails: number;
  /** Runs in which a one-sided fixed-horizon test at α, repeated at every look, ever rejected. */
  peekingFixedFails: number;
}

function simulate(): Simulated {
  const judge = new SequentialJudge({ alpha: ALPHA });
  let sequentialFails = 0;
  let peekingFixedFails = 0;
  for (let run = 0; run < RUNS; run++) {
    const random = createRandom(90_001 + run);
    const groups = {
      baseline: [] as number[],
      canary: [] as number[],
    };
    let state = judge.start();
    let decided = false;
    let fixedRejected = false;
    let events = { baseline: 0, canary: 0 };
    for (let look = 1; look <= LOOKS && !(decided && fixedRejected); look++) {
      for (const group of [groups.baseline, groups.canary]) {
        for (let i = 0; i < PER_LOOK; i++) group.push(random.uniform() < 0.02 ? 1 : 0);
      }
      if (!decided) {
        const result = judge.observe(state, {
          metrics: [
            {
              name: 'error-rate',
              baseline: groups.baseline,
              canary: groups.canary,
              direction: 'increase',
            },
          ],
        });
        state = result.state;
        if (result.verdict.verdict === 'FAIL') sequentialFails++;
        decided = result.verdict.verdict === 'FAIL' || result.verdict.verdict === 'PASS';
      }
      if (!fixedRejected) {
        const tail = (errors: number[]) => sumFrom(errors, errors.length - PER_LOOK);
        events = {
          baseline: events.baseline + tail(groups.baseline),
          canary: events.canary + tail(groups.canary),
        };
        const trials = look * PER_LOOK;
        const { pValue } = fisherExactOneSided(
          { events: events.baseline, trials },
          { events: events.canary, trials },
          'greater',
        );
        fixedRejected = pValue <= ALPHA;
        if (fixedRejected) peekingFixedFails++;
      }
    }
  }
  return { sequentialFails, peekingFixedFails };
}

function sumFrom(values: number[], from: number): number {
  let total = 0;
  for (let i = from; i < values.length; i++) total += values[i];
  return total;
}

describe('sequential judge under continuous peeking (property, simulated)', () => {
  const result = simulate();

  it(`fails fewer than α = ${ALPHA} of ${RUNS} healthy canaries, looking after every interval`, () => {
    expect(result.sequentialFails / RUNS).toBeLessThan(ALPHA);
  });

  it('where a fixed-horizon test asked at every look exceeds α several times over', () => {
    // The reason one-shot tests are kept for one look at a complete window.
    expect(result.peekingFixedFails / RUNS).toBeGreaterThan(2 * ALPHA);
  });
});
