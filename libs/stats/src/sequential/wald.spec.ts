import { bernoulliKl, waldBoundaries, waldExpectedSampleSize } from './wald';

describe("Wald's SPRT", () => {
  it('boundaries ln((1−β)/α) and ln(β/(1−α))', () => {
    const { upper, lower } = waldBoundaries(0.05, 0.1);
    expect(upper).toBeCloseTo(Math.log(18), 12);
    expect(lower).toBeCloseTo(Math.log(0.1 / 0.95), 12);
  });

  it('expected sample sizes by hand for a unit normal shift (KL = 1/2 each way)', () => {
    // α = β = 0.05: A = ln 19, B = −ln 19; E1 = (0.95·A − 0.05·A)/0.5 = 1.8·ln 19 = 5.29998
    const { underAlternative, underNull } = waldExpectedSampleSize(0.05, 0.05, {
      underAlternative: 0.5,
      underNull: 0.5,
    });
    expect(underAlternative).toBeCloseTo(1.8 * Math.log(19), 12);
    expect(underNull).toBeCloseTo(1.8 * Math.log(19), 12);
  });

  it('Bernoulli KL by hand', () => {
    // 0.05·ln 5 + 0.95·ln(0.95/0.99) = 0.0804719 − 0.0391808 = 0.0412911
    expect(bernoulliKl(0.05, 0.01)).toBeCloseTo(0.0412911, 7);
    expect(bernoulliKl(0.3, 0.3)).toBe(0);
    expect(bernoulliKl(0, 0.5)).toBeCloseTo(Math.log(2), 12);
  });
});
