import fc from 'fast-check';
import { compareSemver, parseSemver } from './semver';

const parse = (text: string) => {
  const version = parseSemver(text);
  if (!version) throw new Error(`test setup: ${text} should parse`);
  return version;
};
const compare = (a: string, b: string) => Math.sign(compareSemver(parse(a), parse(b)));

describe('parseSemver', () => {
  it.each([
    '0.0.0',
    '1.2.3',
    '10.20.30',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-0.3.7',
    '1.0.0-x.7.z.92',
    '1.0.0+20130313144700',
    '1.0.0-beta+exp.sha.5114f85',
    '99999999999999999999.0.0',
  ])('accepts %s', (text) => expect(parseSemver(text)).toBeDefined());

  it.each([
    '',
    '1',
    '1.2',
    'v1.2.3',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3-',
    '1.2.3-01',
    '1.2.3+',
    '1.2.3.4',
    ' 1.2.3',
    '1.2.3-alpha..1',
    'latest',
  ])('refuses %j', (text) => expect(parseSemver(text)).toBeUndefined());

  it('splits the prerelease into identifiers and drops build metadata', () => {
    expect(parseSemver('1.2.3-rc.1+build.7')).toEqual({
      major: '1',
      minor: '2',
      patch: '3',
      prerelease: ['rc', '1'],
    });
  });
});

describe('compareSemver', () => {
  it('orders the precedence example of semver.org §11', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compare(ordered[i]!, ordered[i + 1]!)).toBe(-1);
      expect(compare(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
  });

  it('compares numbers as numbers, not text: 1.10.0 > 1.9.0, 2.0.0-rc.10 > 2.0.0-rc.9', () => {
    expect(compare('1.10.0', '1.9.0')).toBe(1);
    expect(compare('2.0.0-rc.10', '2.0.0-rc.9')).toBe(1);
    expect(compare('100000000000000000001.0.0', '100000000000000000000.0.0')).toBe(1);
  });

  it('ranks numeric prerelease identifiers below alphanumeric ones', () => {
    expect(compare('1.0.0-1', '1.0.0-a')).toBe(-1);
  });

  it('ignores build metadata', () => {
    expect(compare('1.0.0+a', '1.0.0+b')).toBe(0);
  });

  const version = fc
    .tuple(
      fc.nat(20),
      fc.nat(20),
      fc.nat(20),
      fc.array(fc.oneof(fc.nat(20).map(String), fc.constantFrom('alpha', 'beta', 'rc')), {
        maxLength: 3,
      }),
    )
    .map(([major, minor, patch, pre]) =>
      parse(`${major}.${minor}.${patch}${pre.length ? `-${pre.join('.')}` : ''}`),
    );

  it('is a total order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(Math.sign(compareSemver(a, b))).toBe(-Math.sign(compareSemver(b, a)));
        if (compareSemver(a, b) <= 0 && compareSemver(b, c) <= 0) {
          expect(compareSemver(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('agrees with plain number comparison on release versions', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        expect(Math.sign(compareSemver(parse(`1.${a}.0`), parse(`1.${b}.0`)))).toBe(
          Math.sign(a - b),
        );
      }),
    );
  });
});
