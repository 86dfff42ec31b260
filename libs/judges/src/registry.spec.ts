import { JudgeInputError } from './errors';
import { KayentaJudge } from './kayenta/kayenta-judge';
import { createJudge, DEFAULT_JUDGE, JUDGES, judgeCompleteWindow, judgeRequest } from './registry';
import { SequentialJudge } from './sequential/sequential-judge';
import { ThresholdJudge } from './threshold/threshold-judge';

describe('judge registry', () => {
  it('maps every name to its judge', () => {
    expect([...JUDGES.keys()]).toEqual(['kayenta', 'threshold', 'sequential']);
    expect(createJudge('kayenta')).toBeInstanceOf(KayentaJudge);
    expect(createJudge('threshold')).toBeInstanceOf(ThresholdJudge);
    expect(createJudge()).toBeInstanceOf(SequentialJudge);
    expect(DEFAULT_JUDGE).toBe('sequential');
  });

  it('judges a complete window with the fixed-horizon form where a judge has one', () => {
    const metrics = [
      {
        name: 'latency',
        baseline: [100, 102, 98, 101, 99, 103, 97, 96],
        canary: [130, 128, 135, 131, 129, 133, 127, 132],
        direction: 'increase' as const,
      },
    ];
    // Eight values a side: too few for the always-valid look, plenty for one exact test.
    expect(judgeRequest({ metrics }).verdict).toBe('MARGINAL');
    const window = judgeCompleteWindow({ metrics });
    expect(window.verdict).toBe('FAIL');
    expect(window.metrics[0].reason).toMatch(/^regression: Mann-Whitney test, one-sided/);
    // Kayenta has no separate form: the same as judgeRequest.
    expect(judgeCompleteWindow({ judge: 'kayenta', metrics })).toEqual(
      judgeRequest({ judge: 'kayenta', metrics }),
    );
  });

  it('passes each judge its own settings', () => {
    const judge = createJudge('sequential', { sequential: { alpha: 0.02 } }) as SequentialJudge;
    expect(judge.settings.alpha).toBe(0.02);
  });

  it('names the known judges when asked for an unknown one', () => {
    expect(() => createJudge('magic')).toThrow(
      new JudgeInputError('unknown judge "magic"; known: kayenta, threshold, sequential'),
    );
  });

  it('uses the request’s judge, else the service’s, else the default', () => {
    const metrics = [
      { name: 'm', baseline: [1, 2, 3], canary: [1, 2, 3], direction: 'increase' as const },
    ];
    const settings = { judge: 'threshold' as const, threshold: { conditions: { m: { max: 10 } } } };
    expect(judgeRequest({ judge: 'kayenta', metrics }, settings).reasons[0]).toBe(
      'score 100 ≥ pass threshold 95',
    );
    expect(judgeRequest({ metrics }, settings).reasons[0]).toBe(
      'every condition holds on the canary',
    );
    expect(judgeRequest({ metrics }).verdict).toBe('MARGINAL'); // sequential: 3 values decide nothing
  });
});
