// A trained model's head for a model id: one input row per grid vertex, made by heads.ts as sample
// and eval make them ([id, index_value] for index models, the encoded direction for the others),
// through the network; out come [x, y, z, r, g, b]. The viewer page runs the network in the
// browser on the same rows, which it fetches from the server (/api/inputs), and the same faces.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cloud, ModelSource } from "./source.js";
import { errors } from "../errors.js";
import { headInputs, generateHead as generate } from "../train/heads.js";
import { describeEncoding } from "../train/encoding.js";

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

/** Input rows for model id `id` on the model's grid (heads.ts: what sample and eval feed too). */
export function generationInputs(source: ModelSource, id: number): Float32Array {
  return headInputs(source.encoder, Math.fround(id), source.grid);
}

/** The head a model generates for `id`: one point per grid vertex (a mesh when the grid has triangles). */
export async function generateHead(model: LayersModel, source: ModelSource, id: number): Promise<Cloud> {
  const tf = await loadTf();
  const inputShape = (model.inputs[0].shape ?? []) as (number | null)[];
  const width = inputShape[inputShape.length - 1] ?? 2;
  if (width !== source.encoder.width) {
    throw errors.modelShape(source.modelJsonPath, source.encoding.name === "index"
      ? `the model takes ${width} inputs; a HeadsNet model takes 2 ([id, index]) or 5 ([id, index, ray])`
      : `the model takes ${width} inputs; its encoding (${describeEncoding(source.encoding)}) makes ${source.encoder.width}`);
  }
  const outShape = model.outputs[0].shape as (number | null)[];
  const outWidth = outShape[outShape.length - 1] ?? 0;
  if (outWidth !== 6 && outWidth !== 3) throw errors.modelShape(source.modelJsonPath, `the model gives ${outWidth} outputs; expected 6 ([x, y, z, r, g, b]) or 3 ([x, y, z])`);
  const head = await generate(tf, model, source.encoder, Math.fround(id), source.grid);
  const n = source.grid.icosphere.count;
  return { count: n, positions: head.points, colors: head.colors, index: Uint32Array.from({ length: n }, (_, i) => i), faces: head.faces };
}
