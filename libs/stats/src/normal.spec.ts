import { normalCdf, normalQuantile, normalSurvival } from './normal';

// Reference values: scipy.stats.norm 1.17 (double precision).
const CDF: [number, number][] = [
  [-8, 6.22096057427174e-16],
  [-6, 9.865876450376946e-10],
  [-3, 0.0013498980316300933],
  [-1.96, 0.024997895148220435],
  [0, 0.5],
  [1, 0.8413447460685429],
  [1.96, 0.9750021048517795],
  [3.0001, 0.9986505450867392],
];

describe('normalCdf', () => {
  it.each(CDF)('Φ(%p) matches the reference to 1e-14 relative', (z, expected) => {
    expect(Math.abs(normalCdf(z) - expected) / expected).toBeLessThan(1e-14);
  });

  it('keeps relative precision in the far upper tail', () => {
    expect(normalSurvival(8)).toBeCloseTo(6.22096057427174e-16, 28);
  });

  it('handles infinities and NaN', () => {
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(NaN)).toBeNaN();
  });
});

describe('normalQuantile', () => {
  it.each([
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.001, -3.090232306167813],
    [1e-12, -7.034483825301131],
    [0.5, 0],
  ])('Φ⁻¹(%p) = %p', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 12);
  });

  it('inverts normalCdf', () => {
    for (const p of [0.0001, 0.02, 0.02425, 0.3, 0.7, 0.97575, 0.9999]) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    }
  });

  it('maps the ends to infinities and rejects values outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});
