import { JudgeInputError } from './errors';
import { KayentaJudge } from './kayenta/kayenta-judge';
import { createJudge, DEFAULT_JUDGE, JUDGES, judgeRequest } from './registry';
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
