// Faster kernels for training dense SELU networks on tfjs-backend-wasm, through tfjs's public
// kernel and gradient registries (no patched package files).
//
// Why: the wasm backend sends a BatchMatMul to XNNPACK only when neither input is transposed; the
// two matmuls of every dense layer's backward pass (dy·Wᵀ and xᵀ·dy) fall to a scalar loop about
// ten times slower. And Selu's gradient is built from five element-wise ops (greater, exp, three
// multiplies and a select), several of them scalar loops.
//
// What:
//  - BatchMatMul and _FusedMatMul with a transposed input: transpose it explicitly (one SIMD pass
//    in 4 × 4 blocks, cheap next to the matmul), then the stock no-transpose (XNNPACK) path.
//    Same products, summed by XNNPACK instead of the scalar loop: results agree to rounding.
//  - Identity (tfjs inserts it in gradients) shares its input's buffer instead of copying it.
//  - Selu: one SIMD pass, `x > 0 ? s·x : s·a·expm1(x)`.
//  - Selu's gradient from the saved output y instead of x: for x > 0 it is s; for x <= 0,
//    s·a·exp(x) = y + s·a. One pass, no exp, through a small kernel (HeadsnetSeluGrad).
//  - Sum over the rows of a matrix (every dense layer's bias gradient): one SIMD pass down the
//    columns, where the stock kernel transposes first and then sums scalar.
//  - Adam's update of a variable in one pass (HeadsnetAdam, used by FastAdamOptimizer in model.ts)
//    instead of a dozen element-wise kernels.
// The passes over the data run in build/train.wasm (assembly/train.ts), a module that imports the
// backend's own memory, so it works on the tensors where they lie.
//
// installFastKernels() and uninstallFastKernels() swap them in and out (tests compare the two).

import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../package.js";

const BACKEND = "wasm";
export const SELU_GRAD_KERNEL = "HeadsnetSeluGrad";
export const ADAM_KERNEL = "HeadsnetAdam";

/** The slice of BackendWasm these kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  wasm: { asm: { memory: WebAssembly.Memory } };
}

/** assembly/train.ts's exports; every pointer is an offset in the backend's heap. */
interface TrainKernels {
  selu(x: number, y: number, n: number): void;
  seluGrad(dy: number, y: number, dx: number, n: number): void;
  sumRows(x: number, out: number, rows: number, cols: number): void;
  transpose(x: number, out: number, rows: number, cols: number): void;
  adam(p: number, m: number, v: number, g: number, p2: number, m2: number, v2: number, n: number,
    lr: number, b1: number, b2: number, eps: number, c1: number, c2: number): void;
}

let trainModule: WebAssembly.Module | undefined;
const instances = new WeakMap<object, TrainKernels>();

/** The kernels instantiated on this backend's memory (once per backend). */
function kernelsOn(backend: WasmBackend): TrainKernels {
  let k = instances.get(backend.wasm);
  if (!k) {
    trainModule ??= new WebAssembly.Module(readFileSync(join(PACKAGE_ROOT, "build", "train.wasm")));
    const instance = new WebAssembly.Instance(trainModule, { env: { memory: backend.wasm.asm.memory } });
    k = instance.exports as unknown as TrainKernels;
    instances.set(backend.wasm, k);
  }
  return k;
}

const ptr = (backend: WasmBackend, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
const size = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

let stock: { batchMatMul: tf.KernelConfig; fusedMatMul: tf.KernelConfig; transpose: tf.KernelConfig; identity: tf.KernelConfig; selu: tf.KernelConfig; sum: tf.KernelConfig; seluGrad: tf.GradConfig } | undefined;
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
      identity: get(tf.Identity),
      selu: get(tf.Selu),
      sum: get(tf.Sum),
      seluGrad: tf.getGradient(tf.Selu),
    };
  }
  return stock;
}

/** Swap the last two axes: one SIMD pass for a matrix, the backend's own Transpose otherwise. */
function transposeLast2(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const rows = x.shape[rank - 2], cols = x.shape[rank - 1];
  const batch = x.shape.slice(0, rank - 2).reduce((a, b) => a * b, 1);
  const outShape = [...x.shape.slice(0, rank - 2), cols, rows];
  if (batch === 1 && x.dtype === "float32") {
    const out = backend.makeOutput(outShape, "float32");
    kernelsOn(backend).transpose(ptr(backend, x), ptr(backend, out), rows, cols);
    return out;
  }
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return stockKernels().transpose.kernelFunc({ inputs: { x }, backend: backend as object, attrs: { perm } }) as tf.TensorInfo;
}

/**
 * Identity without the copy: tensors are immutable (no kernel writes its inputs), so the output
 * shares the input's buffer, as the backend's own Reshape does.
 */
function identityKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x;
  if (x.dtype === "string") return stockKernels().identity.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
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
  kernelsOn(backend).selu(ptr(backend, x), ptr(backend, out), size(x));
  return out;
}

function seluGradKernel(args: KernelArgs): tf.TensorInfo {
  const { dy, y } = args.inputs;
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(y.shape, "float32");
  kernelsOn(backend).seluGrad(ptr(backend, dy), ptr(backend, y), ptr(backend, out), size(y));
  return out;
}

/** Sum over axis 0 of a float32 matrix in one pass; anything else goes to the stock kernel. */
function sumKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x;
  const attrs = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  const axis = Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis];
  const rows = x.shape.length === 2 && axis.length === 1 && (axis[0] === 0 || axis[0] === -2);
  if (!rows || x.dtype !== "float32") return stockKernels().sum.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const backend = args.backend as WasmBackend;
  const [r, c] = x.shape;
  const out = backend.makeOutput(attrs.keepDims ? [1, c] : [c], "float32");
  kernelsOn(backend).sumRows(ptr(backend, x), ptr(backend, out), r, c);
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
  const at = (t: tf.TensorInfo) => ptr(backend, t);
  kernelsOn(backend).adam(at(param), at(m), at(v), at(g), at(outP), at(outM), at(outV), size(param),
    a.lr, a.beta1, a.beta2, a.epsilon, a.c1, a.c2);
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
  replaceKernel({ kernelName: tf.Identity, backendName: BACKEND, kernelFunc: identityKernel as tf.KernelFunc });
  replaceKernel({ kernelName: tf.Sum, backendName: BACKEND, kernelFunc: sumKernel as tf.KernelFunc });
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
  replaceKernel(s.identity);
  replaceKernel(s.sum);
  tf.registerGradient(s.seluGrad);
  installed = false;
}

export function fastKernelsInstalled(): boolean {
  return installed;
}
