// Training kernels for tfjs-backend-wasm, run on its own heap: this module imports the backend's
// memory (built with --importMemory), so every pointer is a tensor's offset in that heap and no
// data is copied. It holds no data of its own and allocates nothing, so it never touches memory
// the backend has not handed it.
//
// Each function does in one SIMD pass what the stock backend does in several scalar kernels (see
// src/train/fast-kernels.ts for why and for the stock paths they replace).

const SELU_SCALE: f32 = 1.0507009873554804934193349852946;
const SELU_SCALE_ALPHA: f32 = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717;

// exp on [-87.3, 0] as 2^k · e^r with |r| <= ln2/2: Cephes expf's polynomial (relative error
// below 2e-7), and the ln2 split that keeps r exact.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MIN: f32 = -87.3;

/** expm1(x) for x <= 0 on four lanes (positive lanes are clamped to 0). */
// @ts-ignore: decorator
@inline function expm1x4(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(0)), f32x4.splat(EXP_MIN));
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(k, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  // e^r - 1 = r + p·r², kept apart from the 1 so that small |x| keeps its relative precision.
  const q = f32x4.add(r, f32x4.mul(p, f32x4.mul(r, r)));
  // 2^k from the exponent bits (k >= -126 after the clamp).
  const twoK = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  // e^x - 1 = (2^k - 1) + 2^k·q
  return f32x4.add(f32x4.sub(twoK, f32x4.splat(1)), f32x4.mul(twoK, q));
}

/** expm1 of one float, the same arithmetic as expm1x4 (for the tails). */
// @ts-ignore: decorator
@inline function expm1Lane(x: f32): f32 {
  return f32x4.extract_lane(expm1x4(f32x4.splat(x)), 0);
}

/** y = selu(x) over n floats. */
export function selu(x: usize, y: usize, n: i32): void {
  const scale = f32x4.splat(SELU_SCALE), scaleAlpha = f32x4.splat(SELU_SCALE_ALPHA), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const positive = f32x4.gt(v, zero);
    const out = v128.bitselect(f32x4.mul(v, scale), f32x4.mul(expm1x4(v), scaleAlpha), positive);
    v128.store(y + (<usize>i << 2), out);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v > 0 ? v * SELU_SCALE : expm1Lane(v) * SELU_SCALE_ALPHA);
  }
}

/**
 * dx = dy · selu'(x), from the saved output y: selu' is the scale where y > 0, and
 * scale·alpha·e^x = y + scale·alpha elsewhere.
 */
export function seluGrad(dy: usize, y: usize, dx: usize, n: i32): void {
  const scale = f32x4.splat(SELU_SCALE), scaleAlpha = f32x4.splat(SELU_SCALE_ALPHA), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dy + o), v = v128.load(y + o);
    const slope = v128.bitselect(scale, f32x4.add(v, scaleAlpha), f32x4.gt(v, zero));
    v128.store(dx + o, f32x4.mul(g, slope));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (v > 0 ? SELU_SCALE : v + SELU_SCALE_ALPHA));
  }
}

/** out[c] = Σ_r x[r, c] for a rows × cols row-major matrix (a bias gradient). */
export function sumRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    let acc = f32x4.splat(0);
    let p = x + (<usize>c << 2);
    for (let r = 0; r < rows; r++, p += stride) acc = f32x4.add(acc, v128.load(p));
    v128.store(out + (<usize>c << 2), acc);
  }
  for (; c < cols; c++) {
    let acc: f32 = 0;
    let p = x + (<usize>c << 2);
    for (let r = 0; r < rows; r++, p += stride) acc += load<f32>(p);
    store<f32>(out + (<usize>c << 2), acc);
  }
}

/**
 * One Adam step over n parameters: m' = b1·m + (1-b1)·g, v' = b2·v + (1-b2)·g²,
 * p' = p - lr·(m'·c1) / (sqrt(v'·c2) + eps), where c1 = 1/(1-b1^t) and c2 = 1/(1-b2^t).
 * The outputs are new buffers: tfjs tensors may share a buffer, so none is changed in place.
 */
export function adam(p: usize, m: usize, v: usize, g: usize, p2: usize, m2: usize, v2: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, c1: f32, c2: f32): void {
  const B1 = f32x4.splat(b1), B2 = f32x4.splat(b2), K1 = f32x4.splat(1 - b1), K2 = f32x4.splat(1 - b2);
  const LR = f32x4.splat(lr), EPS = f32x4.splat(eps), C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), B1), f32x4.mul(gi, K1));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), B2), f32x4.mul(f32x4.mul(gi, gi), K2));
    v128.store(m2 + o, mi);
    v128.store(v2 + o, vi);
    const step = f32x4.div(f32x4.mul(LR, f32x4.mul(mi, C1)), f32x4.add(f32x4.sqrt(f32x4.mul(vi, C2)), EPS));
    v128.store(p2 + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * b1 + gi * (1 - b1);
    const vi = load<f32>(v + o) * b2 + gi * gi * (1 - b2);
    store<f32>(m2 + o, mi);
    store<f32>(v2 + o, vi);
    store<f32>(p2 + o, load<f32>(p + o) - (lr * (mi * c1)) / (Mathf.sqrt(vi * c2) + eps));
  }
}

/** out = xᵀ for a rows × cols row-major matrix, in 4 × 4 blocks transposed in registers. */
export function transpose(x: usize, out: usize, rows: i32, cols: i32): void {
  const inRow = <usize>cols << 2, outRow = <usize>rows << 2;
  const rows4 = rows & ~3, cols4 = cols & ~3;
  for (let i = 0; i < rows4; i += 4) {
    const src = x + <usize>i * inRow;
    for (let j = 0; j < cols4; j += 4) {
      const p = src + (<usize>j << 2);
      const r0 = v128.load(p), r1 = v128.load(p + inRow), r2 = v128.load(p + 2 * inRow), r3 = v128.load(p + 3 * inRow);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const q = out + <usize>j * outRow + (<usize>i << 2);
      v128.store(q, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(q + outRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(q + 2 * outRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(q + 3 * outRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
  }
  // The edges that do not fill a block.
  for (let i = 0; i < rows; i++) {
    for (let j = i < rows4 ? cols4 : 0; j < cols; j++) {
      store<f32>(out + <usize>j * outRow + (<usize>i << 2), load<f32>(x + <usize>i * inRow + (<usize>j << 2)));
    }
  }
}
