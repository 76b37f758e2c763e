// PLY files compiled in this thread, one after another, as row chunks: what `train --from-ply`
// trains on and what `compile --stdout` writes as a row stream (stream.ts). The kernel compiles
// tens of millions of rows per second per core, far more than training consumes, so one thread
// is enough here.

import type { Writable } from "node:stream";
import type { KernelOptions } from "../kernel.js";
import { discoverInputs } from "../discover.js";
import { loadIcosphere, type Icosphere } from "../icosphere.js";
import { Kernel, type InputWidth, type Projection, type WasmBuild } from "../kernel.js";
import { modelId } from "../ids.js";
import { HeadsnetError, errors } from "../errors.js";
import { validatePlyOptions } from "../compile/options.js";
import { X_COLUMNS_2, X_COLUMNS_5, Y_COLUMNS } from "../dataset/format.js";
import { RowStreamWriter, type RowChunk } from "./stream.js";

export interface StreamCompileOptions {
  inputs: string[];
  icosphere?: number | string | Icosphere;
  projection?: Projection;
  inputWidth?: InputWidth;
  /** The compile --seed: model ids derive from it and each file's path. */
  seed?: number;
  build?: WasmBuild;
  cwd?: string;
  /** The rest of compile's per-file options (normals, normalize, on-nonfinite, default colour, least opacity). */
  kernel?: Pick<KernelOptions, "normals" | "normalize" | "onInvalid" | "defaultColor" | "minOpacity">;
}

export interface StreamFailure {
  path: string;
  code: string;
  message: string;
}

/** The files a stream compiles, in order, and their model ids (failed files included: known only later). */
export function streamModels(inputs: string[], seed = 0, cwd?: string): { path: string; id: number }[] {
  return discoverInputs(inputs, cwd).map((f) => ({ path: f.rel, id: modelId(seed, f.rel) }));
}

/** Compile each file in order and yield its rows; files that fail are recorded in `failed` and skipped. */
export async function* compiledChunks(o: StreamCompileOptions, failed: StreamFailure[]): AsyncGenerator<RowChunk & { path: string; id: number }> {
  const files = discoverInputs(o.inputs, o.cwd);
  const icosphere = typeof o.icosphere === "object" ? o.icosphere : loadIcosphere(o.icosphere);
  const kernel = new Kernel(icosphere, { build: o.build });
  let compiled = 0;
  for (const f of files) {
    const id = modelId(o.seed ?? 0, f.rel);
    let result;
    try {
      result = kernel.compileFile(f.path, id, { ...o.kernel, projection: o.projection, inputs: o.inputWidth }, f.label);
    } catch (e) {
      if (!(e instanceof HeadsnetError)) throw e;
      failed.push({ path: f.label, code: e.code, message: e.message });
      continue;
    }
    compiled++;
    if (result.rows > 0) yield { x: result.x, y: result.y, rows: result.rows, path: f.rel, id };
  }
  if (compiled === 0) throw errors.noneCompiled(files.length, failed[0]?.message ?? "");
}

export interface StreamCompileSummary {
  files: number;
  compiled: number;
  rows: number;
  failed: StreamFailure[];
  seconds: number;
}

/**
 * `headsnet compile … --stdout`: compile the inputs and write them to `out` as a row stream
 * (stream.ts). Does not end `out`. Returns errors (bad inputs, a closed pipe) instead of throwing.
 */
export async function compileToRowStream(o: StreamCompileOptions, out: Writable): Promise<{ error?: HeadsnetError; summary?: StreamCompileSummary }> {
  const started = performance.now();
  const failed: StreamFailure[] = [];
  try {
    validatePlyOptions(o.kernel ?? {});
    const icosphere = typeof o.icosphere === "object" ? o.icosphere : loadIcosphere(o.icosphere);
    const width = o.inputWidth ?? 2;
    const writer = new RowStreamWriter(out, width, {
      columns: { x: width === 5 ? X_COLUMNS_5 : X_COLUMNS_2, y: Y_COLUMNS },
      icosphere: { vertices: icosphere.count, sha256: icosphere.sha256, source: icosphere.source },
      options: { projection: o.projection ?? "legacy", inputs: width, seed: o.seed ?? 0 },
      // Every file's id, before its rows: a trainer that encodes ids per head needs them all first.
      models: streamModels(o.inputs, o.seed, o.cwd),
    });
    await writer.start();
    let compiled = 0;
    for await (const chunk of compiledChunks({ ...o, icosphere }, failed)) {
      await writer.append(chunk.x, chunk.y);
      compiled++;
    }
    await writer.finish();
    return { summary: { files: compiled + failed.length, compiled, rows: writer.rows, failed, seconds: (performance.now() - started) / 1000 } };
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    return { error: new HeadsnetError("E_OUTPUT", `cannot write the row stream: ${(e as Error).message}`) };
  }
}
