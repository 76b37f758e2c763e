// Fixtures for the viewer and render tests: two synthetic heads, their compiled dataset, and a tiny
// TensorFlow.js layers model saved in the standard format (model.json + weights.bin).

import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { loadTf } from "../src/view/generate.js";

export interface ViewFixtures {
  root: string;
  heads: string;
  ply: string;
  data: string;
  model: string;
  vertices: number;
  manifest: { rows: number; models: { path: string; id: number; firstRow: number; rows: number }[]; icosphere: { vertices: number } };
}

export const VERTICES = 6000;

export async function makeFixtures(name: string): Promise<ViewFixtures> {
  const root = mkdtempSync(join(tmpdir(), `headsnet-${name}-`));
  const heads = join(root, "heads");
  await synthCorpus({ out: heads, count: 2, vertices: VERTICES, seed: 3 });
  const data = join(root, "data");
  const result = await compile({ inputs: [heads], out: data, workers: 1 });
  if (result.error) throw result.error;
  const model = join(root, "model");
  await saveTinyModel(model, { dataset: "../data" });
  return {
    root,
    heads,
    ply: join(heads, "head_00000.ply"),
    data,
    model,
    vertices: VERTICES,
    manifest: JSON.parse(readFileSync(join(data, "manifest.json"), "utf8")),
  };
}

/**
 * A seeded 2 -> 16 -> 6 network (or `inputs` wide), saved as tf.LayersModel.save would write it to
 * disk; `headsnet`: a block as headsnet train writes (an encoding, say).
 */
export async function saveTinyModel(dir: string, metadata?: Record<string, unknown>, inputs = 2, headsnet?: Record<string, unknown>): Promise<void> {
  const tf = await loadTf();
  mkdirSync(dir, { recursive: true });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 16, activation: "tanh", kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }), biasInitializer: "zeros" }),
      tf.layers.dense({ units: 6, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
    ],
  });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    writeFileSync(join(dir, "model.json"), JSON.stringify({
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      ...(metadata ? { userDefinedMetadata: metadata } : {}),
      ...(headsnet ? { headsnet } : {}),
    }));
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(artifacts.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  model.dispose();
}
