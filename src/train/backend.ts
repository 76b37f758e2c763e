// TensorFlow.js on its WebAssembly backend, in Node, with no network: the backend's .wasm files are
// read from the installed package. Optionally with headsnet's faster kernels (fast-kernels.ts).

import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { installFastKernels, uninstallFastKernels } from "./fast-kernels.js";

export { tf };

let ready: Promise<void> | undefined;

/** The folder holding tfjs-backend-wasm's .wasm files. */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + "/";
}

/**
 * Make the wasm backend the active one (once per thread). With `fast` (the default) the slow
 * kernels of the training path are replaced by fast equivalents; `fast: false` restores the stock
 * ones.
 */
export async function initBackend(options: { fast?: boolean } = {}): Promise<void> {
  if (!ready) {
    ready = (async () => {
      // Threads would need the patched, cross-origin-isolated build; one thread per backend.
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      setWasmPaths(wasmDir());
      await tf.setBackend("wasm");
      await tf.ready();
      if (tf.getBackend() !== "wasm") throw new Error("the TensorFlow.js wasm backend did not start");
    })();
  }
  await ready;
  if (options.fast ?? true) installFastKernels();
  else uninstallFastKernels();
}

/** A float32 tensor's data where it lies in the wasm backend's heap (valid until the next allocation). */
export function heapView(t: tf.Tensor): Float32Array {
  return (tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array }).typedArrayFromHeap(t);
}
