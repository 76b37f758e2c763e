// Seeded randomness for training: shuffles, chunk orders, sampled ids and ray cones. Pure
// functions of a seed and a purpose, so a resumed run draws exactly what a straight run draws.

/** splitmix32-style hash of a few integers into a 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Fold in the high part of non-32-bit numbers too.
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = Math.imul(h ^ hi, 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = p[i]; p[i] = p[j]; p[j] = t;
    }
    return p;
  }
}

/** Seeds for each purpose. */
export const SEED_INIT = 1, SEED_SHUFFLE = 2, SEED_CHUNKS = 3, SEED_SAMPLE_ID = 4, SEED_CONE = 5;
