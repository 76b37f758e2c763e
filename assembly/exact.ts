// The reference's float32 arithmetic, reproduced bit for bit.
//
// The reference was built with -Ofast, which fuses a*b+c into one float32 fma (rounded once).
// WebAssembly has no deterministic scalar fma, so fma32 emulates it: the product of two float32
// is exact in float64, and the float64 sum rounds correctly to float32 unless it landed exactly on
// a float32 rounding midpoint (or below float32's normal range). Only then is the sum redone with
// round-to-odd, which makes the final narrowing correct.
//
// The build with relaxed SIMD (build/release-fma.wasm) uses relaxed_madd instead: one fused
// instruction where the CPU has fma, unfused elsewhere. The host uses that build only after
// checking, in the running process, that it fuses (src/kernel.ts: fmaProbe).

const F32_MIN_NORMAL: f64 = 1.1754943508222875e-38;

@inline
export function fma32(a: f32, b: f32, c: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  }
  const p: f64 = <f64>a * <f64>b;
  const cd: f64 = <f64>c;
  const s: f64 = p + cd;
  const bits: u64 = reinterpret<u64>(s);
  if ((bits & 0x1FFFFFFF) != 0x10000000 && abs<f64>(s) >= F32_MIN_NORMAL) return <f32>s;
  return fma32Slow(p, cd, s);
}

// Round p + c to odd in float64 (TwoSum gives the exact error), then narrow once.
@inline
function fma32Slow(p: f64, c: f64, s: f64): f32 {
  const bb: f64 = s - p;
  const err: f64 = (p - (s - bb)) + (c - bb);
  let bits: u64 = reinterpret<u64>(s);
  if (err != 0 && (bits & 1) == 0) {
    // Step to the odd neighbour on the side of the exact sum.
    if ((err > 0) == (s > 0)) bits += 1;
    else bits -= 1;
  }
  return <f32>reinterpret<f64>(bits);
}

// The reference's distance: sqrt(fma(dz, dz, fma(dx, dx, dy*dy))), all float32.
@inline
export function refDistance(qx: f32, qy: f32, qz: f32, px: f32, py: f32, pz: f32): f32 {
  const dx: f32 = qx - px;
  const dy: f32 = qy - py;
  const dz: f32 = qz - pz;
  return sqrt<f32>(fma32(dz, dz, fma32(dx, dx, dy * dy)));
}
