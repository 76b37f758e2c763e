// A trained model's head for a model id: one input row per icosphere vertex, [id, index_value]
// (with the ray direction -q appended for 5-input models), through the network, out come
// [x, y, z, r, g, b]. The viewer page does the same in the browser (page/app.js).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { indexValue } from "../dataset/format.js";
import type { Cloud, ModelSource } from "./source.js";
import type { Icosphere } from "../icosphere.js";
import { errors } from "../errors.js";

type Tf = typeof import("@tensorflow/tfjs");
type LayersModel = import("@tensorflow/tfjs").LayersModel;

let tfPromise: Promise<Tf> | undefined;

/** TensorFlow.js, loaded on first use (its pure-JS CPU backend; nothing native). */
export function loadTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    // tfjs greets Node users on the console; keep stdout/stderr for headsnet.
    const log = console.log, warn = console.warn;
    console.log = console.warn = () => {};
    try {
      const tf = await import("@tensorflow/tfjs");
      await tf.setBackend("cpu");
      await tf.ready();
      tf.tensor1d([0]).dispose(); // the CPU backend's greeting comes with its first tensor
      return tf;
    } finally {
      console.log = log;
      console.warn = warn;
    }
  })();
  return tfPromise;
}

export async function loadLayersModel(source: ModelSource): Promise<LayersModel> {
  const tf = await loadTf();
  const buffers = source.weightFiles.map((f) => {
    try {
      return readFileSync(join(source.dir, f));
    } catch (e) {
      throw errors.model(join(source.dir, f), `cannot read the weight file: ${(e as Error).message}`);
    }
  });
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  const weightSpecs = source.modelJson.weightsManifest.flatMap((g) => g.weights) as import("@tensorflow/tfjs").io.WeightsManifestEntry[];
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: source.modelJson.modelTopology as object, weightSpecs, weightData }));
  } catch (e) {
    throw errors.modelJson(source.modelJsonPath, (e as Error).message);
  }
}

/** Input rows for model id `id`: [id, index_value(i)] or [id, index_value(i), -qx, -qy, -qz]. */
export function generationInputs(id: number, icosphere: Icosphere, width: number): Float32Array {
  const n = icosphere.count;
  const rows = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    rows[i * width] = id;
    rows[i * width + 1] = indexValue(i, n);
    if (width === 5) {
      for (let c = 0; c < 3; c++) rows[i * width + 2 + c] = -icosphere.vertices[i * 3 + c];
    }
  }
  return rows;
}

/** The head a model generates for `id`: one point per icosphere vertex. */
export async function generateHead(model: LayersModel, source: ModelSource, id: number): Promise<Cloud> {
  const tf = await loadTf();
  const icosphere = source.icosphere();
  const inputShape = (model.inputs[0].shape ?? []) as (number | null)[];
  const width = inputShape[inputShape.length - 1] ?? 2;
  if (width !== 2 && width !== 5) throw errors.modelShape(source.modelJsonPath, `the model takes ${width} inputs; a HeadsNet model takes 2 ([id, index]) or 5 ([id, index, ray])`);
  const outShape = model.outputs[0].shape as (number | null)[];
  const outWidth = outShape[outShape.length - 1] ?? 0;
  if (outWidth !== 6 && outWidth !== 3) throw errors.modelShape(source.modelJsonPath, `the model gives ${outWidth} outputs; expected 6 ([x, y, z, r, g, b]) or 3 ([x, y, z])`);
  const n = icosphere.count;
  const input = tf.tensor2d(generationInputs(id, icosphere, width), [n, width]);
  const output = model.predict(input) as import("@tensorflow/tfjs").Tensor;
  const values = (await output.data()) as Float32Array;
  input.dispose();
  output.dispose();
  const positions = new Float32Array(n * 3), colors = new Float32Array(n * 3), index = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      positions[i * 3 + c] = values[i * outWidth + c];
      colors[i * 3 + c] = outWidth === 6 ? Math.min(1, Math.max(0, values[i * outWidth + 3 + c])) : 0.8;
    }
    index[i] = i;
  }
  return { count: n, positions, colors, index };
}
