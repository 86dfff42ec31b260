import { murmurHash3X86_32 } from './murmur3';

/**
 * Unleash-compatible bucketing. Same inputs, same buckets as Unleash SDKs: a user keeps their
 * bucket when the percentage moves, and an Unleash user lands in the same cohort here.
 */

/** Seed for percentage rollouts (Unleash STRATEGY_SEED). */
export const ROLLOUT_SEED = 0;
/** Seed for variants: a different seed, so variant buckets are independent of rollout buckets. */
export const VARIANT_SEED = 86028157;
/** Rollout buckets run 1..100. */
export const ROLLOUT_BUCKETS = 100;
/** Variant weights add up to this (Unleash's total), so a weight of 1 is 0.1%. */
export const VARIANT_WEIGHT_TOTAL = 1000;

/** The exact string Unleash hashes: `${groupId}:${stickinessKey}`. */
export function bucketHashInput(groupId: string, stickinessKey: string): string {
  return `${groupId}:${stickinessKey}`;
}

/** Unleash `normalizedValue`: murmur3("groupId:key", seed) % normalizer + 1, in 1..normalizer. */
export function normalizedValue(
  groupId: string,
  stickinessKey: string,
  normalizer: number,
  seed: number,
): number {
  return (murmurHash3X86_32(bucketHashInput(groupId, stickinessKey), seed) % normalizer) + 1;
}

/** The rollout bucket (1..100) of a key within a group; the group is the flag key by default. */
export function rolloutBucket(groupId: string, stickinessKey: string): number {
  return normalizedValue(groupId, stickinessKey, ROLLOUT_BUCKETS, ROLLOUT_SEED);
}

/** In when the bucket is at or below the percentage; so growing the percentage only adds users. */
export function isBucketInRollout(bucket: number, percentage: number): boolean {
  return percentage > 0 && bucket <= percentage;
}

export interface WeightedVariant {
  readonly name: string;
  readonly weight: number;
}

/** The variant bucket (1..totalWeight) of a key, hashed with the variant seed. */
export function variantBucket(groupId: string, stickinessKey: string, totalWeight: number): number {
  return normalizedValue(groupId, stickinessKey, totalWeight, VARIANT_SEED);
}

/** Walk the variants in order, adding weights; the first whose running total reaches the bucket. */
export function variantForBucket<V extends WeightedVariant>(
  variants: readonly V[],
  bucket: number,
): V | undefined {
  let runningTotal = 0;
  for (const variant of variants) {
    if (variant.weight <= 0) continue;
    runningTotal += variant.weight;
    if (runningTotal >= bucket) return variant;
  }
  return undefined;
}

export function totalWeight(variants: readonly WeightedVariant[]): number {
  return variants.reduce((sum, variant) => sum + Math.max(0, variant.weight), 0);
}

/**
 * Unleash variant selection: the normalizer is the sum of the weights (1000 for a validated
 * flag), so any weights an Unleash flag carries select the same variant here.
 */
export function selectVariant<V extends WeightedVariant>(
  variants: readonly V[],
  groupId: string,
  stickinessKey: string,
): { variant: V; bucket: number } | undefined {
  const total = totalWeight(variants);
  if (total === 0) return undefined;
  const bucket = variantBucket(groupId, stickinessKey, total);
  const variant = variantForBucket(variants, bucket);
  return variant && { variant, bucket };
}
