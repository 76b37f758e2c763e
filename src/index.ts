// headsnet's programmatic API: every command is a thin wrapper over one of these. Each returns
// `{ error, ... }` rather than throwing on bad input or usage (HeadsnetError, with a code and the
// file it concerns), and never exits the process. Training, sampling and rendering load
// TensorFlow.js or three.js only when called, so importing this module stays cheap.

import type { TrainOptions, TrainResult } from "./train/train.js";
import type { SampleOptions } from "./train/sample.js";
import type { ExportOptions } from "./train/export.js";
import type { RenderOptions } from "./view/render.js";

export { compile } from "./compile/index.js";
export type { CompileOptions, CompileProgress, CompileResult, CompileSummary } from "./compile/index.js";
export { verify, type VerifyReport, type ColumnStats } from "./verify.js";
export { inspect, type InspectReport, type InspectOptions } from "./inspect.js";
export { synthCorpus, synthHead, type SynthCorpusOptions, type SynthCorpusResult } from "./synth.js";
export { Kernel, type KernelOptions, type CompiledFile, type SkippedVertices } from "./kernel.js";
export { loadIcosphere, generateIcosphere, type Icosphere } from "./icosphere.js";
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

/** Render a PLY, a dataset's model or a trained model's head to PNG (src/view/render.ts). */
export async function render(options: RenderOptions): ReturnType<typeof import("./view/render.js").render> {
  return (await import("./view/render.js")).render(options);
}
