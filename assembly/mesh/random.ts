// The samplers' random numbers: splitmix64 (Steele, Lea and Flood 2014) used as a counter-based
// generator: number c of a stream is mix(seed + (c + 1)·γ). Sample k of a file draws from its own
// counters (a fixed block per sample), so a file's samples depend only on the seed the host
// derives from (run seed, file key) and on k: not on the thread, the batch size, or other files.

let seed: u64 = 0;

export function seedRandom(lo: u32, hi: u32): void {
  seed = (<u64>hi << 32) | <u64>lo;
}

const GAMMA: u64 = 0x9e3779b97f4a7c15;

/** Number `c` of the stream. */
@inline
export function randomAt(c: u64): u64 {
  let z = seed + (c + 1) * GAMMA;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Uniform in [0, 1), 53 bits. */
@inline
export function toUniform(bits: u64): f64 {
  return <f64><i64>(bits >> 11) * 1.1102230246251565e-16; // signed: one instruction, exact below 2^53
}

/** Uniform in (0, 1], 53 bits: its log is finite. */
@inline
function toPositive(bits: u64): f64 {
  return <f64><i64>((bits >> 11) + 1) * 1.1102230246251565e-16;
}

/**
 * Box–Muller: two standard normals from numbers c and c + 1; the second goes to `gaussianSin`.
 * Math.sincos shares one argument reduction between the sine and the cosine and gives the same
 * bits as Math.sin and Math.cos (musl's kernels either way).
 */
export let gaussianSin: f64 = 0;
export function gaussianPair(c: u64): f64 {
  const r = Math.sqrt(-2 * Math.log(toPositive(randomAt(c))));
  Math.sincos(6.283185307179586 * toUniform(randomAt(c + 1)));
  gaussianSin = r * Math.sincos_sin;
  return r * Math.sincos_cos;
}
