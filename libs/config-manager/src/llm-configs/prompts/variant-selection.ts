import { createHash, randomInt } from 'node:crypto';

export interface WeightedVariant {
  version: string;
  weight: number;
}

/**
 * Picks a variant in proportion to the weights. With a subject (a user or session id) the pick is a hash of
 * `bucketSeed` and the subject, so a subject keeps its variant across renders and replicas; without one it is random.
 * Buckets follow the variants' order, so changing one weight moves only the subjects at the boundary.
 */
export function pickVariant(variants: readonly WeightedVariant[], bucketSeed: string, subject?: string): number {
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (variants.length === 1 || total <= 0) return 0;
  const bucket = subject ? bucketOf(`${bucketSeed}\u0000${subject}`, total) : randomInt(total);
  let upTo = 0;
  for (const [index, variant] of variants.entries()) {
    upTo += variant.weight;
    if (bucket < upTo) return index;
  }
  return variants.length - 1;
}

/** 48 bits of SHA-256, modulo `buckets`: uniform enough for weights up to millions. */
function bucketOf(key: string, buckets: number): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6) % buckets;
}
