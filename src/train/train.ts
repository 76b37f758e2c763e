// `headsnet train` as a function: rows in (a compiled dataset, a row stream, or PLY files compiled
// on the fly), a tfjs model directory out, checkpointed every epoch. Returns errors, never exits.

import { readFile, writeFile, rename, rm, stat } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { performance } from "node:perf_hooks";
import { tf, initBackend } from "./backend.js";
import { TRAIN_DEFAULTS, ENCODED_DEFAULTS, CHECKPOINT_SECONDS, defaultThreads } from "./defaults.js";
import {
  saveModel, saveOptimizerState, loadModel, OPTIMIZERS, ACTIVATIONS, MODEL_JSON, type OptimizerName, type ModelMeta,
} from "./model.js";
import { Replica, type ReplicaSetup } from "./replica.js";
import { ParallelTrainer } from "./parallel.js";
import { openDataset, fileSource, streamSource, shuffledBatches, Y_WIDTH, type RowSource, type Dataset } from "./data.js";
import { openRowStream } from "./stream.js";
import { compiledChunks, streamModels, type StreamFailure } from "./compile-stream.js";
import { errors, captureErrors, opt } from "../errors.js";
import type { HeadsnetError } from "../errors.js";
import { loadIcosphere, recordedIcosphere, type IcosphereRecord } from "../icosphere.js";
import { Encoder, resolveEncoding, legacyEncoding, describeEncoding, type EncodingSpec, type IdEncoding, type DirectionKey } from "./encoding.js";
import { learningRate, LR_SCHEDULES, type LrScheduleName } from "./schedule.js";
import { headGrid, generateHead } from "./heads.js";
import { readHeads, scoreHeads, spreadHeads, type TrainingHead } from "./evaluate.js";
import type { InputWidth, Projection, WasmBuild } from "../kernel.js";
import { X_COLUMNS_2, X_COLUMNS_5, Y_COLUMNS } from "../dataset/format.js";
import { VERSION } from "../package.js";

export const TRAINING_JSON = "training.json";

export { TRAIN_DEFAULTS, defaultThreads } from "./defaults.js";

export interface TrainOptions {
  /** A compiled dataset (its directory, manifest or a data file), or "-" for a row stream on `input`. */
  data?: string | string[];
  /** PLY files and directories to compile in this process instead of `data`. */
  fromPly?: string[];
  /** The row stream when data is "-" (default process.stdin). */
  input?: Readable | AsyncIterable<Buffer>;
  out: string;
  layers?: number;
  units?: number;
  activation?: string;
  optimizer?: OptimizerName;
  lr?: number;
  batch?: number;
  epochs?: number;
  /** Train on the first N rows only. */
  limit?: number;
  seed?: number;
  /** Rows held by the shuffle buffer. */
  shuffleBuffer?: number;
  /** Continue the checkpoint in `out` (its network, optimizer and settings) up to `epochs`. */
  resume?: boolean;
  /** headsnet's fast wasm kernels (default true); false runs stock tfjs kernels. */
  fast?: boolean;
  /** Threads that share each batch (default: min(2, cores)); 1 trains in this thread only. */
  threads?: number;
  /**
   * The network's input: `index` (the reference's rows as they are), `direction`, or
   * `fourier[:K[:scale]]` (default fourier; see encoding.ts).
   */
  encoding?: string;
  /** direction and fourier: the id as one input (`scalar`) or one weight per training head (`hat`, the default). */
  idEncoding?: IdEncoding;
  /** direction and fourier: each row's direction is its icosphere vertex (`vertex`) or its target's (`radial`, the default). */
  key?: DirectionKey;
  /** The learning rate over the run: `const` (index's default) or `cosine` (the others'). */
  lrSchedule?: LrScheduleName;
  /** Steps of linear warm-up (default 0). */
  warmup?: number;
  /** cosine: the final rate as a fraction of lr (default 0). */
  lrMin?: number;
  /** Stop after this many steps in all (and the schedule spans them); epochs then default to as many as that takes. */
  steps?: number;
  /** Evaluate the heads every this many steps (and at the end): Chamfer, F-score, colour, ids matched. */
  evalEvery?: number;
  /** Evaluate at these steps too (and at the end). */
  evalSteps?: number[];
  /** The dataset to evaluate against (default: the one trained on; a stream needs one). */
  evalData?: string | string[];
  /** Training heads evaluated (default: all, up to 32, spread over the ids). */
  evalHeads?: number;
  /** Called with each evaluation. */
  onEval?: (e: EvalRecord) => void;
  /**
   * The icosphere: --from-ply's compile option; with a dataset or a stream, the table its rows were
   * compiled with when the record does not find it (a table file that moved).
   */
  icosphere?: number | string;
  projection?: Projection;
  inputs?: InputWidth;
  idSeed?: number;
  build?: WasmBuild;
  cwd?: string;
  onProgress?: (p: TrainProgress) => void;
  /** Called with every step's batch loss (benchmarks compare loss curves). */
  onStep?: (loss: number) => void;
  /** Called after each epoch's checkpoint is written. */
  onEpoch?: (e: EpochRecord) => void;
  /** Seconds between checkpoints within an epoch (default 300; 0: only at the end of each epoch). */
  checkpointSeconds?: number;
  /** Stop at the next step, after a checkpoint that `resume` continues from. */
  signal?: AbortSignal;
  /** Called after every checkpoint is written. */
  onCheckpoint?: (c: CheckpointInfo) => void;
}

export interface CheckpointInfo {
  /** 1-based epoch, and the steps of it trained (all of them at the end of an epoch). */
  epoch: number;
  step: number;
  endOfEpoch: boolean;
  loss: number;
  out: string;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Rows trained in this epoch so far, and the epoch's size when known. */
  rows: number;
  epochRows: number | undefined;
  loss: number;
  rowsPerSecond: number;
  /** Seconds left, when the size is known. */
  eta: number | undefined;
}

export interface EpochRecord {
  epoch: number;
  rows: number;
  steps: number;
  loss: number;
  seconds: number;
}

/** One evaluation during training (train --eval-every). */
export interface EvalRecord {
  /** Steps trained in all. */
  step: number;
  epoch: number;
  /** Mean training loss over the steps since the last evaluation. */
  loss: number;
  lr: number;
  chamferL1: number;
  chamferL2: number;
  fscore: number;
  colorError: number;
  matched: number;
  heads: number;
  /** Seconds of training so far (this call's, evaluations excluded). */
  seconds: number;
}

export interface TrainSettings {
  layers: number;
  units: number;
  activation: string;
  optimizer: OptimizerName;
  lr: number;
  batch: number;
  seed: number;
  shuffleBuffer: number;
  limit: number | null;
  /** Absent in checkpoints from before encodings: the rows as they are (index). */
  encoding?: EncodingSpec;
  lrSchedule?: LrScheduleName;
  warmup?: number;
  lrMin?: number;
  /** The run's total steps, when given. */
  steps?: number | null;
}

export interface TrainState {
  tool: "headsnet";
  version: string;
  settings: TrainSettings;
  epochsDone: number;
  epochs: number;
  data: { source: string; xWidth: number; rows: number };
  history: EpochRecord[];
  /** A checkpoint within an epoch: how far into epoch `epoch` (0-based) it is. */
  position?: EpochPosition;
  /** train --eval-every's evaluations so far. */
  evaluations?: EvalRecord[];
}

interface EpochPosition {
  epoch: number;
  steps: number;
  rows: number;
  lossSum: number;
  seconds: number;
}


export interface TrainSummary {
  out: string;
  source: string;
  inputs: number;
  parameters: number;
  settings: TrainSettings;
  epochs: number;
  /** Epochs run by this call (fewer than `epochs` when resuming). */
  epochsRun: number;
  resumedFrom: number | null;
  rowsPerEpoch: number;
  rows: number;
  steps: number;
  seconds: number;
  rowsPerSecond: number;
  loss: number;
  history: EpochRecord[];
  threads: number;
  failed: StreamFailure[];
  /** The encoding, as words ("fourier:4:1, hat id (4 heads), radial key"). */
  encoding: string;
  /** Network inputs per row. */
  networkInputs: number;
  evaluations: EvalRecord[];
}

export interface TrainResult {
  error?: HeadsnetError;
  summary?: TrainSummary;
}

function checkInt(name: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
    throw errors.usage(`${opt(name)} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, got ${v}`);
  }
}

const evalNeedsData = () => errors.usage(`${opt("evalEvery")} compares the heads with a compiled dataset's: pass ${opt("evalData")} DIR when training from a stream`);

function validate(o: TrainOptions): void {
  const sources = [o.data !== undefined, o.fromPly !== undefined].filter(Boolean).length;
  if (sources !== 1) throw errors.usage("train needs exactly one source: a dataset directory, '-' for a row stream on stdin, or " + opt("fromPly") + " DIR");
  if (!o.out) throw errors.usage(`train needs a model directory (${opt("out")} MODEL_DIR)`);
  checkInt("layers", o.layers, 1, 64);
  checkInt("units", o.units, 1, 1 << 16);
  checkInt("batch", o.batch, 1, 1 << 20);
  checkInt("epochs", o.epochs, 1, 1 << 20);
  checkInt("limit", o.limit, 1);
  checkInt("shuffleBuffer", o.shuffleBuffer, 1, 1 << 28);
  checkInt("seed", o.seed, 0, 0xffffffff);
  checkInt("threads", o.threads, 1, 64);
  checkInt("steps", o.steps, 1);
  checkInt("warmup", o.warmup, 0);
  checkInt("evalEvery", o.evalEvery, 1);
  checkInt("evalHeads", o.evalHeads, 1, 1 << 16);
  if ((o.evalEvery !== undefined || o.evalSteps?.length) && o.evalData === undefined && (o.data === "-" || o.fromPly !== undefined)) throw evalNeedsData();
  if (o.lrMin !== undefined && !(o.lrMin >= 0 && o.lrMin <= 1)) throw errors.usage(`${opt("lrMin")} must be a fraction of ${opt("lr")} from 0 to 1, got ${o.lrMin}`);
  if (o.lrSchedule !== undefined && !LR_SCHEDULES.includes(o.lrSchedule)) throw errors.usage(`${opt("lrSchedule")} must be one of ${LR_SCHEDULES.join(", ")}, got ${o.lrSchedule}`);
  if (o.lr !== undefined && !(Number.isFinite(o.lr) && o.lr > 0)) throw errors.usage(`${opt("lr")} must be a positive number, got ${o.lr}`);
  if (o.optimizer !== undefined && !OPTIMIZERS.includes(o.optimizer)) {
    throw errors.usage(`${opt("optimizer")} must be one of ${OPTIMIZERS.join(", ")}, got ${o.optimizer}`);
  }
  if (o.activation !== undefined && !(ACTIVATIONS as readonly string[]).includes(o.activation)) {
    throw errors.usage(`${opt("activation")} must be one of ${ACTIVATIONS.join(", ")}, got ${o.activation}`);
  }
}

/**
 * Checkpoints are written whole into a folder of their own and swapped in by renaming, so that a
 * crash at any moment leaves one complete checkpoint: CHECKPOINT_DIR, or CHECKPOINT_DIR.old
 * when the crash came between the two renames. model.json, weights.bin and training.json beside
 * them are copies for users (tf.loadLayersModel reads the model from there).
 */
const CHECKPOINT_DIR = ".checkpoint";

/** The state of the last checkpoint in `out`, and the folder that holds it. */
async function readState(out: string): Promise<{ state: TrainState; dir: string } | undefined> {
  for (const dir of [join(out, CHECKPOINT_DIR), join(out, CHECKPOINT_DIR + ".old"), out]) {
    const path = join(dir, TRAINING_JSON);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue;
    }
    try {
      const state = JSON.parse(text) as TrainState;
      if (state.tool !== "headsnet" || !state.settings || !Number.isInteger(state.epochsDone)) throw new Error("not a headsnet training state");
      return { state, dir };
    } catch (e) {
      throw errors.model(path, `cannot resume from it: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/** Make `fresh` the checkpoint folder `current`, keeping the old one until the new one is in place. */
async function swapIn(fresh: string, current: string): Promise<void> {
  const old = current + ".old";
  try {
    await rm(old, { recursive: true, force: true });
    if (existsSync(current)) await rename(current, old);
    await rename(fresh, current);
    await rm(old, { recursive: true, force: true });
  } catch (e) {
    throw errors.output(current, (e as Error).message);
  }
}

async function writeState(out: string, state: TrainState): Promise<void> {
  const path = join(out, TRAINING_JSON);
  try {
    await writeFile(path + ".partial", JSON.stringify(state, null, 2) + "\n");
    await rename(path + ".partial", path);
  } catch (e) {
    throw errors.output(path, (e as Error).message);
  }
}

interface OpenedSource {
  source: RowSource;
  meta: Partial<ModelMeta>;
  failed: StreamFailure[];
  /** The model ids the rows carry, when known before they arrive. */
  ids: number[] | undefined;
  /** Where a relative icosphere table path may lie. */
  dir: string;
  dataset?: Dataset;
}

async function openSource(o: TrainOptions, seed: number, limit: number | undefined, needSpool: boolean): Promise<OpenedSource> {
  const failed: StreamFailure[] = [];
  const spoolDir = needSpool ? join(o.out, ".spool") : undefined;
  if (o.fromPly) {
    const icosphere = loadIcosphere(o.icosphere);
    const xWidth = o.inputs ?? 2;
    return {
      source: streamSource({ xWidth, label: o.fromPly.join(", "), chunks: compiledChunks({ inputs: o.fromPly, icosphere, projection: o.projection, inputWidth: o.inputs, seed: o.idSeed, build: o.build, cwd: o.cwd }, failed), seed, limit, spoolDir }),
      meta: { columns: { x: xWidth === 5 ? X_COLUMNS_5 : X_COLUMNS_2, y: Y_COLUMNS }, icosphere: { vertices: icosphere.count, sha256: icosphere.sha256, source: icosphere.source } },
      failed,
      ids: streamModels(o.fromPly, o.idSeed, o.cwd).map((m) => m.id),
      dir: o.cwd ?? process.cwd(),
    };
  }
  if (o.data === "-") {
    if (!o.input && process.stdin.isTTY) {
      throw errors.usage("train - reads a row stream from stdin, which is a terminal: pipe 'headsnet compile ... --stdout' into it");
    }
    const reader = await openRowStream(o.input ?? process.stdin, "stdin");
    const h = reader.header;
    return {
      source: streamSource({ xWidth: h.xWidth, label: "stdin", chunks: reader.chunks(), stop: () => reader.drain(), seed, limit, spoolDir }),
      meta: { columns: h.columns, icosphere: h.icosphere as ModelMeta["icosphere"] },
      failed,
      ids: Array.isArray(h.models) ? (h.models as { id: number }[]).map((m) => m.id).filter((id) => typeof id === "number") : undefined,
      dir: o.cwd ?? process.cwd(),
    };
  }
  const dataset = await openDataset(o.data!);
  return {
    source: fileSource(dataset, seed, limit),
    meta: { columns: dataset.manifest.columns, icosphere: dataset.manifest.icosphere },
    failed,
    ids: dataset.manifest.models.map((m) => m.id),
    dir: dataset.dir,
    dataset,
  };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const r = await captureErrors(() => trainOrThrow(options));
  return { error: r.error, summary: r.result };
}

async function trainOrThrow(o: TrainOptions): Promise<TrainSummary> {
  validate(o);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw errors.notDirectory(o.out, `${opt("out")} names the directory the model goes to`);
  const found = await readState(o.out);
  const previous = found?.state;
  let settings: TrainSettings;
  let startEpoch = 0;
  let history: EpochRecord[] = [];
  let evaluations: EvalRecord[] = [];
  if (o.resume) {
    if (!previous) throw errors.model(join(o.out, TRAINING_JSON), `nothing to resume: no checkpoint here (train without ${opt("resume")} first)`);
    // The checkpoint's settings; a new --steps is the new total.
    settings = { ...previous.settings, ...(o.steps !== undefined ? { steps: o.steps } : {}) };
    startEpoch = previous.epochsDone;
    history = previous.history;
    evaluations = previous.evaluations ?? [];
  } else {
    if (previous) {
      throw errors.usage(`${o.out} already holds a trained model (${TRAINING_JSON}); pass ${opt("resume")} to continue it, or choose another ${opt("out")}`);
    }
    settings = {
      layers: o.layers ?? TRAIN_DEFAULTS.layers,
      units: o.units ?? TRAIN_DEFAULTS.units,
      activation: o.activation ?? TRAIN_DEFAULTS.activation,
      optimizer: o.optimizer ?? TRAIN_DEFAULTS.optimizer,
      lr: o.lr ?? TRAIN_DEFAULTS.lr, // the encoding's default replaces it below, when not given
      batch: o.batch ?? TRAIN_DEFAULTS.batch,
      seed: o.seed ?? TRAIN_DEFAULTS.seed,
      shuffleBuffer: o.shuffleBuffer ?? TRAIN_DEFAULTS.shuffleBuffer,
      limit: o.limit ?? null,
      steps: o.steps ?? null,
    };
  }
  const totalSteps = settings.steps ?? undefined;
  // With --steps, as many epochs as they take (a stream's length is known after its first).
  const epochsGiven = o.epochs ?? (totalSteps === undefined ? (o.resume ? previous!.epochs : TRAIN_DEFAULTS.epochs) : undefined);
  await initBackend({ fast: o.fast ?? true });

  const { source, meta, failed, ids, dir, dataset } = await openSource(o, settings.seed, settings.limit ?? undefined, epochsGiven !== 1);
  const epochsFor = (rows: number | undefined): number => {
    if (epochsGiven !== undefined) return epochsGiven;
    return rows !== undefined ? Math.max(1, Math.ceil(totalSteps! / Math.ceil(rows / settings.batch))) : 1 << 20;
  };
  try {
    if (previous && o.resume) {
      if (previous.data.xWidth !== source.xWidth) {
        throw errors.usage(`the checkpoint in ${o.out} was trained on rows of ${previous.data.xWidth} inputs; ${source.label} has ${source.xWidth}`);
      }
      if (source.rows !== undefined && source.rows !== previous.data.rows) {
        throw errors.usage(`the checkpoint in ${o.out} was trained on ${previous.data.rows} rows; ${source.label} has ${source.rows} (resume with the same data and ${opt("limit")})`);
      }
    }
    const icosphereRecord = meta.icosphere as IcosphereRecord | undefined;
    if (!o.resume) {
      const encoding = resolveEncoding({ encoding: o.encoding, idEncoding: o.idEncoding, key: o.key }, { rowWidth: source.xWidth, ids, icosphere: icosphereRecord });
      const index = encoding.name === "index";
      settings = {
        ...settings, encoding,
        lr: o.lr ?? (index ? TRAIN_DEFAULTS.lr : ENCODED_DEFAULTS.lr),
        lrSchedule: o.lrSchedule ?? (index ? "const" : ENCODED_DEFAULTS.lrSchedule),
        warmup: o.warmup ?? (index ? 0 : ENCODED_DEFAULTS.warmup), lrMin: o.lrMin ?? 0,
      };
    }
    const spec = settings.encoding ?? legacyEncoding(source.xWidth, icosphereRecord);
    // The vertex key looks each row's index value up in the icosphere its rows were compiled with.
    const rowIcosphere = spec.name !== "index" && spec.key === "vertex"
      ? (o.fromPly ? loadIcosphere(o.icosphere) : recordedIcosphere(spec.icosphere ?? icosphereRecord!, { override: o.icosphere, dir }))
      : undefined;
    const encoder = new Encoder(spec, rowIcosphere);
    const schedule = { schedule: settings.lrSchedule ?? "const", lr: settings.lr, warmup: settings.warmup ?? 0, lrMin: settings.lrMin ?? 0 };
    const scheduled = schedule.schedule !== "const" || schedule.warmup > 0;

    // Evaluation: the training heads (or those of evalData) against the heads generated for their ids.
    let evalHeads: TrainingHead[] | undefined;
    const evaluating = o.evalEvery !== undefined || (o.evalSteps?.length ?? 0) > 0;
    const evalAt = new Set(o.evalSteps ?? []);
    if (evaluating) {
      let evalSet = dataset;
      if (o.evalData !== undefined) evalSet = await openDataset(o.evalData);
      if (!evalSet) throw evalNeedsData();
      const models = evalSet.manifest.models.length;
      evalHeads = readHeads(evalSet, spreadHeads(models, o.evalHeads ?? Math.min(models, 32)));
    }
    const grid = evalHeads ? headGrid(spec, { dir, icosphere: o.fromPly ? undefined : o.icosphere }) : undefined;

    let loaded: tf.LayersModel | undefined;
    const position = o.resume ? previous?.position : undefined;
    if (o.resume) {
      const m = await loadModel(found!.dir);
      if (m.meta.checkpoint !== startEpoch || (m.meta.checkpointStep ?? 0) !== (position?.steps ?? 0)) {
        m.model.dispose();
        throw errors.model(join(o.out, MODEL_JSON), `belongs to epoch ${m.meta.checkpoint} (step ${m.meta.checkpointStep ?? 0}), but ${TRAINING_JSON} says ${startEpoch} epochs and ${position?.steps ?? 0} steps are done: the checkpoint was interrupted while being written`);
      }
      loaded = m.model;
    }
    const setup: ReplicaSetup = {
      network: { inputs: encoder.width, layers: settings.layers, units: settings.units, activation: settings.activation, outputs: Y_WIDTH, seed: settings.seed },
      optimizer: settings.optimizer,
      lr: settings.lr,
      resumeFrom: o.resume ? found!.dir : undefined,
      fast: o.fast ?? true,
    };
    const replica = await Replica.create(setup, loaded);
    const threads = o.threads ?? defaultThreads();
    let parallel: ParallelTrainer | undefined;
    try {
      parallel = threads > 1 ? await ParallelTrainer.create(replica, setup, threads) : undefined;
    } catch (e) {
      replica.dispose();
      throw e;
    }
    const { model, optimizer } = replica;
    const parameters = replica.total;
    const modelMeta: ModelMeta = { tool: "headsnet", version: VERSION, inputs: encoder.width, outputs: Y_WIDTH, ...meta, encoding: spec };
    const everyMs = (o.checkpointSeconds ?? CHECKPOINT_SECONDS) * 1000;
    // The weights, the optimizer's state and the training state, written whole into a folder
    // that then replaces the last checkpoint (see CHECKPOINT_DIR); then the copies for users.
    const checkpoint = async (e: number, at: EpochPosition | undefined, rowsOfEpoch: number) => {
      const meta = { ...modelMeta, checkpoint: e, checkpointStep: at?.steps ?? 0 };
      const state: TrainState = {
        tool: "headsnet", version: VERSION, settings, epochsDone: e, epochs: epochsFor(source.rows ?? previous?.data.rows),
        data: { source: source.label, xWidth: source.xWidth, rows: rowsOfEpoch },
        history, ...(at ? { position: at } : {}), ...(evaluations.length ? { evaluations } : {}),
      };
      const fresh = join(o.out, CHECKPOINT_DIR + ".new");
      await rm(fresh, { recursive: true, force: true });
      await saveModel(model, fresh, meta);
      try {
        await saveOptimizerState(optimizer, fresh);
      } catch (err) {
        throw errors.output(fresh, (err as Error).message);
      }
      await writeState(fresh, state);
      await swapIn(fresh, join(o.out, CHECKPOINT_DIR));
      await saveModel(model, o.out, meta);
      await writeState(o.out, state);
    };
    // Steps trained before this call, and the loss since the last evaluation.
    const stepsBefore = history.reduce((a, h) => a + h.steps, 0) + (position?.steps ?? 0);
    let sinceEval = { loss: 0, steps: 0 };
    let evalSeconds = 0;
    const started = performance.now();
    const evaluate = async (step: number, epoch: number, lr: number) => {
      const t0 = performance.now();
      const generated = [];
      for (const h of evalHeads!) generated.push(await generateHead(tf, model, encoder, Math.fround(h.id), grid!));
      const q = scoreHeads(generated, evalHeads!);
      const record: EvalRecord = {
        step, epoch, loss: sinceEval.steps ? sinceEval.loss / sinceEval.steps : NaN, lr,
        chamferL1: q.chamferL1, chamferL2: q.chamferL2, fscore: q.fscore, colorError: q.colorError,
        matched: q.matched!, heads: evalHeads!.length,
        seconds: (performance.now() - started - evalSeconds) / 1000,
      };
      evaluations = [...evaluations, record];
      sinceEval = { loss: 0, steps: 0 };
      evalSeconds += performance.now() - t0;
      o.onEval?.(record);
    };
    const encoded = new Float32Array(settings.batch * encoder.width);
    try {
      let rowsTotal = 0, stepsTotal = 0;
      let lastCheckpoint = performance.now();
      let globalStep = stepsBefore;
      let lastLr = settings.lr;
      const done = () => totalSteps !== undefined && globalStep >= totalSteps;
      for (let e = startEpoch; e < epochsFor(source.rows) && !done(); e++) {
        const resumed = position?.epoch === e ? position : undefined;
        const epochStart = performance.now() - (resumed?.seconds ?? 0) * 1000;
        let rows = resumed?.rows ?? 0, steps = resumed?.steps ?? 0, lossSum = resumed?.lossSum ?? 0, lastReport = 0;
        // A checkpoint within this epoch: its first steps were trained before it was taken. The
        // epoch's batches come in the same order again (a pure function of the seed and the
        // epoch), so skipping them continues the run exactly where it stopped.
        let skip = resumed?.steps ?? 0;
        for await (const b of shuffledBatches(source.epoch(e), source.xWidth, settings.batch, settings.shuffleBuffer, settings.seed, e)) {
          if (skip > 0) {
            skip--;
            continue;
          }
          const rowsKnown = source.rows ?? previous?.data.rows;
          const runSteps = totalSteps ?? (rowsKnown !== undefined ? epochsFor(rowsKnown) * Math.ceil(rowsKnown / settings.batch) : undefined);
          const lr = scheduled ? learningRate(schedule, globalStep, runSteps) : settings.lr;
          lastLr = lr;
          const x = encoder.encodeRows(b.x, b.y, b.rows, encoded);
          const value = parallel ? await parallel.step(x, b.y, b.rows, scheduled ? lr : undefined) : replica.step(x, b.y, b.rows, scheduled ? lr : undefined);
          o.onStep?.(value);
          if (!Number.isFinite(value)) {
            throw errors.train(`the loss became ${value} at epoch ${e + 1}, step ${steps + 1}: lower ${opt("lr")}, or check the data with 'headsnet verify'`);
          }
          lossSum += value * b.rows;
          rows += b.rows;
          steps++;
          globalStep++;
          sinceEval.loss += value;
          sinceEval.steps++;
          if ((o.evalEvery !== undefined && globalStep % o.evalEvery === 0) || evalAt.has(globalStep)) await evaluate(globalStep, e + 1, lr);
          if (done()) break;
          const stopping = Boolean(o.signal?.aborted);
          if (stopping || (everyMs > 0 && performance.now() - lastCheckpoint > everyMs)) {
            const at = { epoch: e, steps, rows, lossSum, seconds: (performance.now() - epochStart) / 1000 };
            await checkpoint(e, at, previous?.data.rows ?? source.rows ?? 0);
            lastCheckpoint = performance.now();
            o.onCheckpoint?.({ epoch: e + 1, step: steps, endOfEpoch: false, loss: lossSum / rows, out: o.out });
            if (stopping) throw errors.trainInterrupted(o.out, e + 1, steps);
          }
          if (o.onProgress) {
            const now = performance.now();
            if (now - lastReport > 200) {
              lastReport = now;
              const seconds = (now - epochStart) / 1000;
              const rate = rows / Math.max(seconds, 1e-9);
              const epochRows = source.rows;
              const epochs = epochsFor(epochRows);
              const left = epochRows !== undefined ? (epochRows - rows) + (epochs - e - 1) * epochRows : undefined;
              const leftSteps = totalSteps !== undefined ? (totalSteps - globalStep) * settings.batch : undefined;
              const rowsLeft = leftSteps !== undefined && (left === undefined || leftSteps < left) ? leftSteps : left;
              o.onProgress({ epoch: e + 1, epochs, rows, epochRows, loss: lossSum / rows, rowsPerSecond: rate, eta: rowsLeft !== undefined ? rowsLeft / rate : undefined });
            }
          }
        }
        if (rows === 0) throw errors.usage(`${source.label}: no rows arrived to train on`);
        const record: EpochRecord = { epoch: e + 1, rows, steps, loss: lossSum / rows, seconds: (performance.now() - epochStart) / 1000 };
        history = [...history, record];
        rowsTotal += rows;
        stepsTotal += steps;
        const finished = done() || e + 1 >= epochsFor(source.rows);
        if (finished && evaluating && evaluations[evaluations.length - 1]?.step !== globalStep) await evaluate(globalStep, e + 1, lastLr);
        await checkpoint(e + 1, undefined, previous?.data.rows ?? source.rows ?? rows);
        lastCheckpoint = performance.now();
        o.onCheckpoint?.({ epoch: e + 1, step: steps, endOfEpoch: true, loss: record.loss, out: o.out });
        o.onEpoch?.(record);
        if (o.signal?.aborted && !finished) throw errors.trainInterrupted(o.out, e + 1, steps);
      }
      const seconds = (performance.now() - started - evalSeconds) / 1000;
      const last = history[history.length - 1];
      const epochs = epochsFor(source.rows ?? previous?.data.rows);
      return {
        out: o.out,
        source: source.label,
        inputs: source.xWidth,
        parameters,
        settings,
        epochs,
        epochsRun: Math.max(0, history.length - startEpoch),
        resumedFrom: o.resume ? startEpoch : null,
        rowsPerEpoch: source.rows ?? previous?.data.rows ?? last?.rows ?? 0,
        rows: rowsTotal,
        steps: stepsTotal,
        seconds,
        rowsPerSecond: rowsTotal / Math.max(seconds, 1e-9),
        loss: last?.loss ?? NaN,
        history,
        threads,
        failed,
        encoding: describeEncoding(spec),
        networkInputs: encoder.width,
        evaluations,
      };
    } finally {
      await parallel?.close();
      replica.dispose();
    }
  } finally {
    await source.close();
  }
}

/** Does `dir` hold a finished training run? */
export async function hasModel(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, MODEL_JSON))).isFile();
  } catch {
    return false;
  }
}
