// Faster kernels for training dense SELU networks on tfjs-backend-wasm, through tfjs's public
// kernel and gradient registries (no patched package files).
//
// Why: the wasm backend sends a BatchMatMul to XNNPACK only when neither input is transposed; the
// two matmuls of every dense layer's backward pass (dy·Wᵀ and xᵀ·dy) fall to a scalar loop about
// ten times slower. And Selu's gradient is built from five element-wise ops (greater, exp, three
// multiplies and a select), several of them scalar loops.
//
// What:
//  - BatchMatMul and _FusedMatMul with a transposed input: transpose it explicitly (the backend's
//    own Transpose kernel, cheap next to the matmul), then the stock no-transpose (XNNPACK) path.
//    Same products, summed by XNNPACK instead of the scalar loop: results agree to rounding.
//  - Selu: one pass over the wasm heap, `x > 0 ? s·x : s·a·expm1(x)` in float64, stored float32.
//  - Selu's gradient from the saved output y instead of x: for x > 0 it is s; for x <= 0,
//    s·a·exp(x) = y + s·a. One pass, no exp, through a small kernel (HeadsnetSeluGrad).
//  - Adam's update of a variable in one pass (HeadsnetAdam, used by FastAdamOptimizer in model.ts)
//    instead of a dozen element-wise kernels.
//
// installFastKernels() and uninstallFastKernels() swap them in and out (tests compare the two).

import * as tf from "@tensorflow/tfjs";

const BACKEND = "wasm";
const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE_ALPHA = SELU_SCALE * SELU_ALPHA;
export const SELU_GRAD_KERNEL = "HeadsnetSeluGrad";
export const ADAM_KERNEL = "HeadsnetAdam";

/** The slice of BackendWasm these kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

let stock: { batchMatMul: tf.KernelConfig; fusedMatMul: tf.KernelConfig; transpose: tf.KernelConfig; selu: tf.KernelConfig; seluGrad: tf.GradConfig } | undefined;
let installed = false;

function stockKernels() {
  if (!stock) {
    const get = (name: string) => {
      const k = tf.getKernel(name, BACKEND);
      if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
      return k;
    };
    stock = {
      batchMatMul: get(tf.BatchMatMul),
      fusedMatMul: get(tf._FusedMatMul),
      transpose: get(tf.Transpose),
      selu: get(tf.Selu),
      seluGrad: tf.getGradient(tf.Selu),
    };
  }
  return stock;
}

/** Swap the last two axes with the backend's own Transpose kernel. */
function transposeLast2(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return stockKernels().transpose.kernelFunc({ inputs: { x }, backend: backend as object, attrs: { perm } }) as tf.TensorInfo;
}

function untransposed(config: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const attrs = args.attrs ?? {};
    const { a, b } = args.inputs;
    const ta = Boolean(attrs.transposeA), tb = Boolean(attrs.transposeB);
    if ((!ta && !tb) || a.dtype !== "float32" || b.dtype !== "float32") {
      return config.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    }
    const backend = args.backend as WasmBackend;
    const at = ta ? transposeLast2(a, backend) : a;
    const bt = tb ? transposeLast2(b, backend) : b;
    try {
      return config.kernelFunc({
        inputs: { ...args.inputs, a: at, b: bt },
        backend: backend as object,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      if (ta) backend.disposeData(at.dataId);
      if (tb) backend.disposeData(bt.dataId);
    }
  }) as tf.KernelFunc;
}

function seluKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x;
  if (x.dtype !== "float32") return stockKernels().selu.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(x.shape, "float32");
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x);
  const ys = backend.typedArrayFromHeap(out);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    ys[i] = v > 0 ? SELU_SCALE * v : SELU_SCALE_ALPHA * Math.expm1(v);
  }
  return out;
}

function seluGradKernel(args: KernelArgs): tf.TensorInfo {
  const { dy, y } = args.inputs;
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(y.shape, "float32");
  const dys = backend.typedArrayFromHeap(dy);
  const ys = backend.typedArrayFromHeap(y);
  const dx = backend.typedArrayFromHeap(out);
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    dx[i] = v > 0 ? SELU_SCALE * dys[i] : dys[i] * (v + SELU_SCALE_ALPHA);
  }
  return out;
}

/**
 * One Adam update of one variable in one pass (tfjs's Adam runs a dozen element-wise kernels):
 * inputs {param, m, v, g}, attrs {lr, beta1, beta2, epsilon, c1 = 1/(1-beta1^t), c2 = 1/(1-beta2^t)};
 * outputs [param', m', v'] (new tensors; nothing is updated in place).
 */
function adamKernel(args: KernelArgs): tf.TensorInfo[] {
  const { param, m, v, g } = args.inputs;
  const a = args.attrs as { lr: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number };
  const backend = args.backend as WasmBackend;
  const outP = backend.makeOutput(param.shape, "float32");
  const outM = backend.makeOutput(param.shape, "float32");
  const outV = backend.makeOutput(param.shape, "float32");
  const P = backend.typedArrayFromHeap(param), M = backend.typedArrayFromHeap(m), V = backend.typedArrayFromHeap(v);
  const G = backend.typedArrayFromHeap(g);
  const P2 = backend.typedArrayFromHeap(outP), M2 = backend.typedArrayFromHeap(outM), V2 = backend.typedArrayFromHeap(outV);
  const { lr, beta1, beta2, epsilon, c1, c2 } = a;
  const k1 = 1 - beta1, k2 = 1 - beta2;
  for (let i = 0; i < P.length; i++) {
    const gi = G[i];
    const mi = M[i] * beta1 + gi * k1;
    const vi = V[i] * beta2 + gi * gi * k2;
    M2[i] = mi;
    V2[i] = vi;
    P2[i] = P[i] - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
  }
  return [outP, outM, outV];
}

const seluGradConfig: tf.GradConfig = {
  kernelName: tf.Selu,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    return { x: () => tf.engine().runKernel(SELU_GRAD_KERNEL, { dy: dy as tf.Tensor, y }, {}) as tf.Tensor };
  },
};

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, BACKEND)) tf.unregisterKernel(config.kernelName, BACKEND);
  tf.registerKernel(config);
}

/** Use the fast kernels on the wasm backend (idempotent). The backend must be initialized. */
export function installFastKernels(): void {
  if (installed) return;
  const s = stockKernels();
  replaceKernel({ kernelName: tf.BatchMatMul, backendName: BACKEND, kernelFunc: untransposed(s.batchMatMul) });
  replaceKernel({ kernelName: tf._FusedMatMul, backendName: BACKEND, kernelFunc: untransposed(s.fusedMatMul) });
  replaceKernel({ kernelName: tf.Selu, backendName: BACKEND, kernelFunc: seluKernel as tf.KernelFunc });
  replaceKernel({ kernelName: SELU_GRAD_KERNEL, backendName: BACKEND, kernelFunc: seluGradKernel as tf.KernelFunc });
  replaceKernel({ kernelName: ADAM_KERNEL, backendName: BACKEND, kernelFunc: adamKernel as unknown as tf.KernelFunc });
  tf.registerGradient(seluGradConfig);
  installed = true;
}

/** Back to the stock wasm kernels and gradients. */
export function uninstallFastKernels(): void {
  if (!installed) return;
  const s = stockKernels();
  replaceKernel(s.batchMatMul);
  replaceKernel(s.fusedMatMul);
  replaceKernel(s.selu);
  tf.registerGradient(s.seluGrad);
  installed = false;
}

export function fastKernelsInstalled(): boolean {
  return installed;
}
