// headsnet's programmatic API: every command is a thin wrapper over one of these. Each returns
// `{ error, ... }` rather than throwing on bad input or usage (HeadsnetError, with a code and the
// file it concerns), and never exits the process. Training, sampling and rendering load
// TensorFlow.js or three.js only when called, so importing this module stays cheap.

import type { TrainOptions, TrainResult } from "./train/train.js";
import type { SampleOptions } from "./train/sample.js";
import type { ExportOptions } from "./train/export.js";
import type { RenderOptions } from "./view/render.js";
import type { EvalModelOptions } from "./train/eval-model.js";
import type { CompareOptions } from "./mesh/compare.js";

export { compile } from "./compile/index.js";
export type { CompileOptions, CompileProgress, CompileResult, CompileSummary } from "./compile/index.js";
export { verify, type VerifyReport, type ColumnStats } from "./verify.js";
export { inspect, type InspectReport, type InspectOptions } from "./inspect.js";
export { synthCorpus, synthHead, type SynthCorpusOptions, type SynthCorpusResult } from "./synth.js";
export { Kernel, type KernelOptions, type CompiledFile, type SkippedVertices } from "./kernel.js";
export { loadIcosphere, generateIcosphere, generateIcosphereMesh, recordedIcosphere, type Icosphere, type IcosphereMesh, type IcosphereRecord } from "./icosphere.js";
export { Encoder, parseEncoding, resolveEncoding, describeEncoding, type EncodingSpec } from "./train/encoding.js";
export { learningRate, type LrSchedule } from "./train/schedule.js";
export { readDataset, checkDataset, type Dataset, type DatasetFile, type DatasetCheck } from "./dataset/read.js";
export { merge, type MergeOptions, type MergeSummary } from "./dataset/shards.js";
export * as format from "./dataset/format.js";
export { HeadsnetError, type ErrorCode, type ErrorJson } from "./errors.js";
export { VERSION } from "./package.js";

/** Train a HeadsNet model (src/train/train.ts). */
export async function train(options: TrainOptions): Promise<TrainResult> {
  return (await import("./train/train.js")).train(options);
}

/** Sample a trained model into a PLY head (src/train/sample.ts). */
export async function sample(options: SampleOptions): ReturnType<typeof import("./train/sample.js").sample> {
  return (await import("./train/sample.js")).sample(options);
}

/** Export a trained model as the reference's C arrays (src/train/export.ts). */
export async function exportModel(options: ExportOptions): ReturnType<typeof import("./train/export.js").exportModel> {
  return (await import("./train/export.js")).exportModel(options);
}

/** How good a trained model's heads are against its training heads, with baselines (src/train/eval-model.ts). */
export async function evaluateModel(options: EvalModelOptions): ReturnType<typeof import("./train/eval-model.js").evaluateModel> {
  return (await import("./train/eval-model.js")).evaluateModel(options);
}

/** How close a mesh or point cloud is to a reference mesh (src/mesh/compare.ts). */
export async function compareMeshes(options: CompareOptions): ReturnType<typeof import("./mesh/compare.js").compareMeshes> {
  return (await import("./mesh/compare.js")).compareMeshes(options);
}

/** Render a PLY, a dataset's model or a trained model's head to PNG (src/view/render.ts). */
export async function render(options: RenderOptions): ReturnType<typeof import("./view/render.js").render> {
  return (await import("./view/render.js")).render(options);
}
