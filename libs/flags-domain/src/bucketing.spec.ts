import fc from 'fast-check';
import vectors from '../test-vectors/bucketing.json';
import {
  bucketHashInput,
  isBucketInRollout,
  normalizedValue,
  rolloutBucket,
  selectVariant,
  variantBucket,
  variantForBucket,
  VARIANT_SEED,
} from './bucketing';
import { murmurHash3X86_32 } from './murmur3';

describe('Unleash bucketing vectors (test-vectors/bucketing.json)', () => {
  it.each(vectors.rollout)(
    'rollout: $groupId:$stickinessKey hashes to $hash, bucket $bucket',
    ({ groupId, stickinessKey, hash, bucket }) => {
      expect(murmurHash3X86_32(bucketHashInput(groupId, stickinessKey), 0)).toBe(hash);
      expect(rolloutBucket(groupId, stickinessKey)).toBe(bucket);
    },
  );

  it.each(vectors.rolloutDecisions)(
    'rollout decision: $stickinessKey in $groupId at $percentage% is $enabled',
    ({ groupId, stickinessKey, percentage, enabled }) => {
      expect(isBucketInRollout(rolloutBucket(groupId, stickinessKey), percentage)).toBe(enabled);
    },
  );

  it.each(vectors.variantBuckets)(
    'variant: $groupId:$stickinessKey over $normalizer is bucket $bucket',
    ({ groupId, stickinessKey, normalizer, seed, hash, bucket }) => {
      expect(seed).toBe(VARIANT_SEED);
      expect(murmurHash3X86_32(bucketHashInput(groupId, stickinessKey), seed)).toBe(hash);
      expect(variantBucket(groupId, stickinessKey, normalizer)).toBe(bucket);
    },
  );

  it.each(vectors.variantWalk.cases)(
    'variant walk (Unleash spec, seed 0): $groupId user $stickinessKey gets $variant',
    ({ groupId, stickinessKey, weights, variant }) => {
      const variants = Object.entries(weights).map(([name, weight]) => ({ name, weight }));
      const total = variants.reduce((sum, v) => sum + v.weight, 0);
      const bucket = normalizedValue(groupId, stickinessKey, total, vectors.variantWalk.seed);
      expect(variantForBucket(variants, bucket)?.name).toBe(variant);
    },
  );

  it.each(vectors.nonAscii.cases)(
    'non-ASCII: $groupId:$stickinessKey is bucket $bucket over UTF-8 ($lowByteBucket the murmurhash3js way)',
    ({ groupId, stickinessKey, hash, bucket, lowByteHash, lowByteBucket }) => {
      const input = bucketHashInput(groupId, stickinessKey);
      expect(murmurHash3X86_32(input, 0)).toBe(hash);
      expect(rolloutBucket(groupId, stickinessKey)).toBe(bucket);
      // murmurhash3js (unleash-client-node) hashes the low byte of each UTF-16 code unit.
      const lowBytes = Uint8Array.from(
        { length: input.length },
        (_, i) => input.charCodeAt(i) & 0xff,
      );
      expect(murmurHash3X86_32(lowBytes, 0)).toBe(lowByteHash);
      expect((lowByteHash % 100) + 1).toBe(lowByteBucket);
      expect(lowByteHash).not.toBe(hash);
    },
  );
});

describe('rollout buckets', () => {
  const groupId = fc.string({ minLength: 1, maxLength: 30 });
  const key = fc.string({ minLength: 1, maxLength: 40 });
  const percentage = fc.integer({ min: 0, max: 100 });

  it('are always 1..100', () => {
    fc.assert(
      fc.property(groupId, key, (group, k) => {
        const bucket = rolloutBucket(group, k);
        expect(bucket >= 1 && bucket <= 100 && Number.isInteger(bucket)).toBe(true);
      }),
    );
  });

  it('include a user at some percentage at every higher percentage (monotonic inclusion)', () => {
    fc.assert(
      fc.property(groupId, key, percentage, percentage, (group, k, a, b) => {
        const [lower, higher] = a <= b ? [a, b] : [b, a];
        const bucket = rolloutBucket(group, k);
        if (isBucketInRollout(bucket, lower)) expect(isBucketInRollout(bucket, higher)).toBe(true);
      }),
    );
  });

  it('include nobody at 0% and everybody at 100%', () => {
    fc.assert(
      fc.property(groupId, key, (group, k) => {
        expect(isBucketInRollout(rolloutBucket(group, k), 0)).toBe(false);
        expect(isBucketInRollout(rolloutBucket(group, k), 100)).toBe(true);
      }),
    );
  });

  it('spread users evenly: each tenth of the buckets holds 10% ± 1.5% of 20,000 users', () => {
    fc.assert(
      fc.property(groupId, (group) => {
        const tenths = new Array<number>(10).fill(0);
        for (let i = 0; i < 20_000; i++)
          tenths[Math.floor((rolloutBucket(group, `user-${i}`) - 1) / 10)]!++;
        for (const count of tenths) expect(Math.abs(count / 20_000 - 0.1)).toBeLessThan(0.015);
      }),
      { numRuns: 10 },
    );
  });

  it('pass a chi-square test of uniformity over all 100 buckets', () => {
    const counts = new Array<number>(100).fill(0);
    const users = 50_000;
    for (let i = 0; i < users; i++) counts[rolloutBucket('checkout-v2', `user-${i}`) - 1]!++;
    const expected = users / 100;
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(148.2); // 99 degrees of freedom, p = 0.001
  });

  it('differ between groups, so two flags at 10% do not pick the same users', () => {
    const inBoth = Array.from({ length: 10_000 }, (_, i) => `user-${i}`).filter(
      (user) => rolloutBucket('flag-a', user) <= 10 && rolloutBucket('flag-b', user) <= 10,
    );
    // Independent 10% cohorts overlap on about 1% of users, not 10%.
    expect(inBoth.length).toBeGreaterThan(50);
    expect(inBoth.length).toBeLessThan(150);
  });
});

describe('variants', () => {
  const abc = [
    { name: 'a', weight: 333 },
    { name: 'b', weight: 333 },
    { name: 'c', weight: 334 },
  ];

  it('walk cumulative weights: buckets 1..333 → a, 334..666 → b, 667..1000 → c', () => {
    expect(variantForBucket(abc, 1)?.name).toBe('a');
    expect(variantForBucket(abc, 333)?.name).toBe('a');
    expect(variantForBucket(abc, 334)?.name).toBe('b');
    expect(variantForBucket(abc, 666)?.name).toBe('b');
    expect(variantForBucket(abc, 667)?.name).toBe('c');
    expect(variantForBucket(abc, 1000)?.name).toBe('c');
  });

  it('skip zero-weight variants', () => {
    const variants = [
      { name: 'retired', weight: 0 },
      { name: 'live', weight: 1000 },
    ];
    expect(variantForBucket(variants, 1)?.name).toBe('live');
  });

  it('select "gr1" user 123 by variant bucket 796 (the published vector)', () => {
    const selected = selectVariant(
      [
        { name: 'blue', weight: 500 },
        { name: 'green', weight: 300 },
        { name: 'red', weight: 200 },
      ],
      'gr1',
      '123',
    );
    expect(selected).toEqual({ variant: { name: 'green', weight: 300 }, bucket: 796 });
  });

  it('select nothing when every weight is zero', () => {
    expect(selectVariant([{ name: 'a', weight: 0 }], 'g', 'u')).toBeUndefined();
  });

  it('split users evenly within a 10% rollout, thanks to the separate variant seed', () => {
    const users = Array.from({ length: 120_000 }, (_, i) => `user-${i}`);
    const inRollout = users.filter((user) => rolloutBucket('long.flag.name', user) <= 10);
    const share = (pick: (user: string) => string | undefined) => {
      const counts = new Map<string, number>();
      for (const user of inRollout) counts.set(pick(user)!, (counts.get(pick(user)!) ?? 0) + 1);
      return ['a', 'b', 'c'].map((name) => (counts.get(name) ?? 0) / inRollout.length);
    };
    const seeded = share((user) => selectVariant(abc, 'long.flag.name', user)?.variant.name);
    for (const fraction of seeded) expect(Math.abs(fraction - 1 / 3)).toBeLessThan(0.02);
    // Rehashing with the rollout seed ties variant buckets to rollout buckets: a gets 40%.
    const unseeded = share(
      (user) => variantForBucket(abc, normalizedValue('long.flag.name', user, 1000, 0))?.name,
    );
    expect(unseeded[0]).toBeGreaterThan(0.38);
  });
});
