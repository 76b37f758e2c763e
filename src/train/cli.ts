// The train, sample and export commands: thin wrappers over train(), sample() and exportModel().

import type { Argv } from "yargs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errors, opt } from "../errors.js";
// The commands load the trainer (and TensorFlow.js) only when they run.
import type { TrainProgress, TrainSummary, EvalRecord } from "./train.js";
import type { EvalModelSummary } from "./eval-model.js";
import type { CompareSummary } from "../mesh/compare.js";
import type { Quality } from "./evaluate.js";
import { TRAIN_DEFAULTS, ENCODED_DEFAULTS, SAMPLE_DEFAULTS, OPTIMIZERS, ACTIVATIONS, CHECKPOINT_SECONDS, defaultThreads } from "./defaults.js";
import { progressEnabled, formatCount, formatSeconds, ProgressBar } from "../progress.js";
import { DEFAULT_ICOSPHERE_LEVEL } from "../icosphere.js";
import { DEFAULT_ENCODING, ID_ENCODINGS, DIRECTION_KEYS } from "./encoding.js";
import { LR_SCHEDULES } from "./schedule.js";
import { finish, outcomeOf, withCommonOptions, workersOption, fmtInt, plural, displayPath, mustExist, withInterrupt, type Io } from "../cli-common.js";

/** A default that may differ by encoding, as help shows it. */
function byEncoding(index: number, encoded: number): string {
  return index === encoded ? `[default: ${index}]` : `[default: ${index} with --encoding index, else ${encoded}]`;
}

export type TrainIo = Io;

function progressText(p: TrainProgress): string {
  const of = p.epochRows ? `/${formatCount(p.epochRows)}` : "";
  return `epoch ${p.epoch}/${p.epochs}  ${formatCount(p.rows)}${of} rows  loss ${p.loss.toPrecision(4)}  ${formatCount(p.rowsPerSecond)} rows/s  ETA ${formatSeconds(p.eta)}`;
}

/** One evaluation as a line: step, loss, Chamfer, F-score, colour, ids matched. */
export function evalText(e: EvalRecord): string {
  return `step ${fmtInt(e.step)}: loss ${Number.isFinite(e.loss) ? e.loss.toPrecision(4) : "-"}, Chamfer-L1 ${e.chamferL1.toFixed(4)} (L2 ${e.chamferL2.toExponential(2)}), F-score ${e.fscore.toFixed(3)}, colour ${e.colorError.toFixed(4)}, ${e.matched}/${e.heads} ids matched, lr ${e.lr.toPrecision(3)}, ${formatSeconds(e.seconds)}`;
}

function trainText(s: TrainSummary): string {
  const schedule = s.settings.lrSchedule && s.settings.lrSchedule !== "const" ? ` (${s.settings.lrSchedule}${s.settings.warmup ? `, warm-up ${fmtInt(s.settings.warmup)} steps` : ""})` : s.settings.warmup ? ` (warm-up ${fmtInt(s.settings.warmup)} steps)` : "";
  const lines = [
    `trained ${plural(s.epochsRun, "epoch")}${s.resumedFrom !== null ? ` (resumed after epoch ${s.resumedFrom})` : ""} on ${plural(s.rowsPerEpoch, "row")} from ${s.source}: loss ${s.loss.toPrecision(5)}, ${formatSeconds(s.seconds)} (${formatCount(s.rowsPerSecond)} rows/s)`,
    `  ${s.settings.layers} x Dense(${s.settings.units}, ${s.settings.activation}) + Dense(6) on ${s.networkInputs} inputs, ${fmtInt(s.parameters)} parameters; ${s.settings.optimizer} lr ${s.settings.lr}${schedule}, batch ${s.settings.batch}, ${plural(s.threads, "thread")}`,
    `  encoding: ${s.encoding}`,
    `  model: ${displayPath(s.out)}/model.json`,
  ];
  for (const h of s.history) lines.push(`  epoch ${h.epoch}: loss ${h.loss.toPrecision(5)}, ${plural(h.rows, "row")}, ${formatSeconds(h.seconds)}`);
  const e = s.evaluations[s.evaluations.length - 1];
  if (e) lines.push(`  last evaluation: ${evalText(e)}`);
  for (const f of s.failed) lines.push(`  failed: ${f.message}`);
  return lines.join("\n") + "\n";
}

/** yargs turns a lone '-' into an empty string; one path is a string, several a list of shards. */
function dataArgument(data: string[] | undefined): string | string[] | undefined {
  if (!data?.length) return undefined;
  const paths = data.map((d) => (d === "" ? "-" : d));
  return paths.length === 1 ? paths[0] : paths;
}

function qualityRow(label: string, q: Quality): string {
  const matched = q.matched === null ? "-" : `${q.matched}/${q.heads.length}`;
  return `  ${label.padEnd(20)} ${q.chamferL1.toFixed(4).padStart(10)} ${q.chamferL2.toExponential(2).padStart(11)} ${q.fscore.toFixed(3).padStart(11)} ${q.colorError.toFixed(4).padStart(8)} ${matched.padStart(8)}`;
}

function evalModelText(s: EvalModelSummary): string {
  const lines = [
    `${displayPath(s.model)} (${s.encoding}) against ${displayPath(s.data)}: ${plural(s.heads, "head")}, each generated at ${fmtInt(s.points)} points${s.level !== null ? ` (icosphere level ${s.level})` : ""}`,
    `  ${"".padEnd(20)} ${"Chamfer-L1".padStart(10)} ${"Chamfer-L2".padStart(11)} ${"F-score@1%".padStart(11)} ${"colour".padStart(8)} ${"matched".padStart(8)}`,
    qualityRow("model", s.quality),
  ];
  if (s.baselines) {
    lines.push(qualityRow("sphere", s.baselines.sphere), qualityRow("mean head", s.baselines.meanHead), qualityRow("floor (vertex means)", s.baselines.floor));
  }
  lines.push("  per head (model):");
  for (const h of s.quality.heads) {
    const near = h.nearest === null ? "" : h.matched ? "  own head nearest" : `  NEAREST: ${s.quality.heads[h.nearest].path}`;
    lines.push(`    ${h.path}  id ${h.id.toFixed(6)}  Chamfer-L1 ${h.chamferL1.toFixed(4)}  F ${h.fscore.toFixed(3)}  colour ${h.colorError.toFixed(4)}${near}`);
  }
  if (s.png) lines.push(`  picture: ${displayPath(s.png)} (rows: training head | generated head)`);
  return lines.join("\n") + "\n";
}

function compareText(s: CompareSummary): string {
  const shape = (f: CompareSummary["reference"]) => `${displayPath(f.file)}: ${f.kind === "mesh" ? `${plural(f.triangles, "triangle")}${f.closed ? ", closed" : ", open"}, ${plural(f.points, "surface sample")}` : plural(f.points, "point")}`;
  const lines = [
    `${shape(s.predicted)}`,
    `  against ${shape(s.reference)}`,
    `  Chamfer-L1 ${s.chamferL1.toPrecision(4)} (accuracy ${s.accuracy.toPrecision(4)}, completeness ${s.completeness.toPrecision(4)}), Chamfer-L2 ${s.chamferL2.toExponential(3)}`,
    ...s.fscore.map((f) => `  F-score at ${f.tau.toPrecision(3)}: ${f.f.toFixed(4)} (precision ${f.precision.toFixed(4)}, recall ${f.recall.toFixed(4)})`),
    `  normal consistency ${s.normalConsistency === null ? "- (the point cloud has no normals)" : s.normalConsistency.toFixed(4)}`,
    `  IoU ${s.iou === null ? "- (needs two closed meshes)" : s.iou.toFixed(4)}`,
  ];
  if (s.colorError !== null) lines.push(`  colour error ${s.colorError.toFixed(4)}`);
  return lines.join("\n") + "\n";
}

export function registerTrainCommands(y: Argv, io: TrainIo, setExitCode: (c: number) => void): Argv {
  return y
    .command(
      "train [data..]",
      "train the HeadsNet network (TensorFlow.js, wasm backend) on a dataset, a row stream on stdin ('-'), or PLY files (--from-ply)",
      (c) => withCommonOptions(c
        .positional("data", { type: "string", array: true, describe: "a compile output directory (merged, linked, or several shard directories), or '-' to read a row stream (compile --stdout) from stdin" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "model directory (model.json, weights.bin, checkpoint)" })
        .option("from-ply", { type: "string", array: true, describe: "compile these PLY files/directories in this process and train on the rows as they come" })
        .option("layers", { type: "number", default: TRAIN_DEFAULTS.layers, describe: "hidden Dense layers" })
        .option("units", { type: "number", default: TRAIN_DEFAULTS.units, describe: "units per hidden layer" })
        .option("activation", { choices: ACTIVATIONS, default: TRAIN_DEFAULTS.activation, describe: "hidden layers' activation" })
        .option("optimizer", { choices: OPTIMIZERS, default: TRAIN_DEFAULTS.optimizer, describe: "optimizer" })
        .option("lr", { type: "number", describe: `learning rate (the peak, with a schedule) ${byEncoding(TRAIN_DEFAULTS.lr, ENCODED_DEFAULTS.lr)}` })
        .option("batch", { type: "number", default: TRAIN_DEFAULTS.batch, describe: "rows per step" })
        .option("epochs", { type: "number", describe: `passes over the data (with --resume: the total) [default: ${TRAIN_DEFAULTS.epochs}, or as many as --steps take]` })
        .option("steps", { type: "number", describe: "stop after this many steps in all (the learning-rate schedule spans them; with --resume: the total) [default: --epochs' worth]" })
        .option("encoding", { type: "string", default: DEFAULT_ENCODING, describe: "network input: index (the reference's [id, index value]), direction ([id, q]) or fourier[:K[:scale]] ([id, q, sin/cos(scale·2^j·π·q)], K 4, scale 1)" })
        .option("id-encoding", { choices: ID_ENCODINGS, describe: "direction/fourier: the id as one input (scalar) or one weight per training head (hat: one-hot at a training id, linear between neighbours) [default: hat]" })
        .option("key", { choices: DIRECTION_KEYS, describe: "direction/fourier: a row's direction q is its icosphere vertex (vertex) or its target point's direction (radial) [default: radial]" })
        .option("lr-schedule", { choices: LR_SCHEDULES, describe: `learning rate over the run: const, or cosine (decays to --lr-min x --lr at the last step) [default: const with --encoding index, else ${ENCODED_DEFAULTS.lrSchedule}]` })
        .option("warmup", { type: "number", describe: `steps of linear learning-rate warm-up ${byEncoding(0, ENCODED_DEFAULTS.warmup)}` })
        .option("lr-min", { type: "number", default: 0, describe: "cosine: the final learning rate, a fraction of --lr" })
        .option("eval-every", { type: "number", describe: "every this many steps (and at the end), generate the training heads and print Chamfer, F-score, colour error and ids matched (recorded in training.json)" })
        .option("eval-data", { type: "string", array: true, describe: "the dataset --eval-every compares with [default: the dataset trained on; a stream needs it]" })
        .option("eval-heads", { type: "number", describe: "training heads --eval-every evaluates [default: all, up to 32, spread over the ids]" })
        .option("limit", { type: "number", describe: "train on the first N rows only (default: all)" })
        .option("seed", { type: "number", default: TRAIN_DEFAULTS.seed, describe: "seed of the initial weights and the shuffles" })
        .option("shuffle-buffer", { type: "number", default: TRAIN_DEFAULTS.shuffleBuffer, describe: "rows held by the shuffle buffer (memory: about 32-44 bytes each)" })
        .option("resume", { type: "boolean", default: false, describe: "continue the checkpoint in -o (its settings) up to --epochs" })
        .option("workers", workersOption(defaultThreads(), "threads sharing each batch (gradients averaged); 1 = this thread only"))
        .option("stock-kernels", { type: "boolean", default: false, describe: "use tfjs's stock wasm kernels instead of headsnet's faster ones" })
        .option("icosphere", { type: "string", describe: `--from-ply: icosphere level 0-9, blender or a float32 x y z table file [default: ${DEFAULT_ICOSPHERE_LEVEL}]; a dataset's or stream's: its table, when the record no longer finds it (a moved file)` })
        .option("projection", { choices: ["legacy", "ray"] as const, default: "legacy" as const, describe: "--from-ply: legacy (the reference's step) or ray" })
        .option("inputs", { choices: [2, 5] as const, default: 2 as const, describe: "--from-ply: train_x width (5 adds the ray direction)" })
        .option("id-seed", { type: "number", default: 0, describe: "--from-ply: the compile --seed that model ids derive from" })
        .option("checkpoint-every", { type: "number", default: CHECKPOINT_SECONDS, describe: "seconds between checkpoints within an epoch (0: only at each epoch's end); Ctrl-C also saves one" })),
      async (args) => {
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        const { train } = await import("./train.js");
        // On a terminal the bar shows progress; in a log, a line per checkpoint does.
        const logCheckpoints = !args.quiet && !args.json && !bar;
        const result = await withInterrupt(() => {
          bar?.clear();
          io.err("headsnet: stopping after this step, with a checkpoint (press Ctrl-C again to quit at once)\n");
        }, (signal) => train({
          // yargs turns a lone '-' into an empty string.
          data: dataArgument(args.data as string[] | undefined),
          fromPly: args.fromPly as string[] | undefined,
          out: args.out,
          layers: args.layers, units: args.units, activation: args.activation, optimizer: args.optimizer,
          lr: args.lr, batch: args.batch, epochs: args.epochs, limit: args.limit, seed: args.seed,
          shuffleBuffer: args.shuffleBuffer, resume: args.resume, fast: !args.stockKernels, threads: args.workers,
          icosphere: args.icosphere, projection: args.projection, inputs: args.inputs, idSeed: args.idSeed,
          checkpointSeconds: args.checkpointEvery, signal,
          encoding: args.encoding, idEncoding: args.idEncoding, key: args.key, lrSchedule: args.lrSchedule, warmup: args.warmup, lrMin: args.lrMin,
          steps: args.steps, evalEvery: args.evalEvery, evalData: dataArgument(args.evalData as string[] | undefined), evalHeads: args.evalHeads,
          onEval: args.quiet || args.json ? undefined : (e) => {
            bar?.clear();
            io.err(`headsnet: ${evalText(e)}\n`);
          },
          onProgress: bar ? (p) => bar.show(p.epochRows ? p.rows / p.epochRows : 0, progressText(p)) : undefined,
          onCheckpoint: logCheckpoints ? (c) => io.err(`headsnet: checkpoint: epoch ${c.epoch}, ${c.endOfEpoch ? "end" : `step ${fmtInt(c.step)}`}, loss ${c.loss.toPrecision(5)} (${displayPath(c.out)})\n`) : undefined,
        }));
        bar?.clear();
        setExitCode(finish(io, "train", args, result.error ? { error: result.error } : { data: { ...result.summary }, text: trainText(result.summary!) }));
      },
    )
    .command(
      "sample <model>",
      "generate a head: a closed mesh on an icosphere of any level (direction and fourier models), or a point cloud (--points; index models' default), as a PLY (or CSV)",
      (c) => withCommonOptions(c
        .positional("model", { type: "string", demandOption: true, describe: "a model directory written by train" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output file (.ply, or .csv)" })
        .option("id", { type: "number", describe: "model id in [0, 1] to draw; between two training ids, the head between them (default: one drawn from --seed as the reference draws it)" })
        .option("random", { type: "boolean", default: false, describe: "a new head: two neighbouring training ids and a point between them, drawn from --seed" })
        .option("seed", { type: "number", default: SAMPLE_DEFAULTS.seed, describe: "seed of the drawn id and of the ray directions" })
        .option("level", { type: "number", describe: `a mesh: the network at the vertices of an icosphere of this level, with its triangles (7: 163,842 vertices) [default: ${SAMPLE_DEFAULTS.level}; index models: their own icosphere's level only]` })
        .option("points", { type: "number", describe: `a point cloud of this many points: index models at (id, i/points), the others on a Fibonacci spiral [index models' default: ${fmtInt(SAMPLE_DEFAULTS.points)}]` })
        .option("format", { choices: ["ply", "csv"] as const, describe: "output format (default: from the file name, else ply)" })
        .option("cone", { type: "number", default: SAMPLE_DEFAULTS.cone, describe: "5-input models: half-angle in degrees of the cone of ray directions around each icosphere point" })
        .option("icosphere", { type: "string", describe: "5-input models: icosphere level or table (default: the one the model was trained with)" })),
      async (args) => {
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        const outcome = await outcomeOf(async () => {
          mustExist(args.model as string);
          const { sample } = await import("./sample.js");
          const result = await sample({
            model: args.model as string, out: args.out, id: args.id, random: args.random, seed: args.seed, points: args.points, level: args.level,
            format: args.format, cone: args.cone, icosphere: args.icosphere,
            onProgress: bar ? (k, n) => bar.show(k / n, `${formatCount(k)}/${formatCount(n)} points`) : undefined,
          });
          bar?.clear();
          if (result.error) return { error: result.error };
          const s = result.summary!;
          return {
            data: { ...s },
            text: `wrote ${s.faces ? `a mesh of ${plural(s.points, "vertex", "vertices")} and ${plural(s.faces, "triangle")} (icosphere level ${s.level})` : plural(s.points, "point")} of model id ${s.id}${s.between ? ` (between training ids ${s.between.a} and ${s.between.b}, t = ${s.between.t.toFixed(3)})` : ""} to ${displayPath(s.out)} (${s.format}, ${formatCount(s.bytes)}B)${s.cone !== null ? `, ray directions in a ${s.cone} degree cone` : ""}\n`,
          };
        });
        setExitCode(finish(io, "sample", args, outcome));
      },
    )
    .command(
      "eval <input>",
      "how good a model's heads are (MODEL --data DATASET: Chamfer, F-score, colour, ids matched, baselines, a PNG grid), or how close a shape is to a mesh (PRED.ply|obj --reference REF.ply|obj)",
      (c) => withCommonOptions(c
        .positional("input", { type: "string", demandOption: true, describe: "a model directory written by train, or a mesh or point cloud (.ply, .obj) to compare with --reference" })
        .option("data", { type: "string", array: true, describe: "model: the dataset to compare with [default: the one it was trained on, if still there]" })
        .option("heads", { type: "number", describe: "model: training heads evaluated [default: all, up to 32, spread over the ids]" })
        .option("level", { type: "number", describe: "direction/fourier model: icosphere level the heads are generated on [default: 5]" })
        .option("icosphere", { type: "string", describe: "the dataset's or model's icosphere table, when its record no longer finds it" })
        .option("baselines", { type: "boolean", default: true, describe: "model: also score the sphere, the mean head and the per-vertex floor (--no-baselines: not)" })
        .option("png", { type: "string", describe: "model: write a PNG grid here: one row per id, training head | generated head" })
        .option("grid-rows", { type: "number", default: 4, describe: "model: ids in the PNG grid" })
        .option("panel-size", { type: "number", default: 320, describe: "model: pixels per panel side in the PNG grid" })
        .option("view", { choices: ["front", "side", "three-quarter"] as const, default: "three-quarter" as const, describe: "model: the PNG grid's camera" })
        .option("reference", { type: "string", describe: "shape: the reference mesh (.ply, .obj) to compare the input with" })
        .option("samples", { type: "number", default: 100000, describe: "shape: surface samples per mesh" })
        .option("occupancy", { type: "number", default: 100000, describe: "shape: uniform points for the IoU (two closed meshes)" })
        .option("threshold", { type: "number", array: true, describe: "shape: F-score thresholds [default: 1% of the reference's extent]" })
        .option("seed", { type: "number", default: 0, describe: "shape: seed of the samples" })),
      async (args) => {
        const outcome = await outcomeOf(async () => {
          mustExist(args.input as string);
          if (args.reference !== undefined) {
            mustExist(args.reference);
            const { compareMeshes } = await import("../mesh/compare.js");
            const r = await compareMeshes({ predicted: args.input as string, reference: args.reference, samples: args.samples, occupancy: args.occupancy, thresholds: args.threshold as number[] | undefined, seed: args.seed });
            if (r.error) return { error: r.error };
            return { data: { ...r.summary! }, text: compareText(r.summary!) };
          }
          if (!existsSync(join(args.input as string, "model.json"))) {
            return { error: errors.usage(`${args.input} is not a model directory (no model.json): eval takes a model and ${opt("data")} DATASET, or a shape and ${opt("reference")} MESH`) };
          }
          const { evaluateModel } = await import("./eval-model.js");
          const data = args.data as string[] | undefined;
          const r = await evaluateModel({
            model: args.input as string, data: data?.length ? (data.length === 1 ? data[0] : data) : undefined, heads: args.heads, level: args.level,
            icosphere: args.icosphere, baselines: args.baselines, png: args.png, gridRows: args.gridRows, panelSize: args.panelSize, view: args.view,
          });
          if (r.error) return { error: r.error };
          return { data: { ...r.summary! }, text: evalModelText(r.summary!) };
        });
        setExitCode(finish(io, "eval", args, outcome));
      },
    )
    .command(
      "export <model>",
      "export a trained model's weights as C arrays (per layer, each unit's weights followed by its bias)",
      (c) => withCommonOptions(c
        .positional("model", { type: "string", demandOption: true, describe: "a model directory written by train" })
        .option("format", { choices: ["c-header"] as const, default: "c-header" as const, describe: "output format" })
        .option("out", { alias: "o", type: "string", describe: "output file (default: stdout)" })
        .option("name", { type: "string", default: "headsnet", describe: "prefix of the C identifiers" }), "no summary"),
      async (args) => {
        if (!existsSync(args.model as string)) return setExitCode(finish(io, "export", args, { error: errors.notFound(args.model as string) }));
        const { exportModel } = await import("./export.js");
        const result = await exportModel({ model: args.model as string, format: args.format, out: args.out, name: args.name });
        if (result.error) return setExitCode(finish(io, "export", args, { error: result.error }));
        const s = result.summary!;
        if (!s.out) {
          // The header is the output: with --json it goes inside the envelope.
          if (!args.json) io.out(s.text);
          return setExitCode(finish(io, "export", { ...args, quiet: true }, { data: { ...s } }));
        }
        setExitCode(finish(io, "export", args, { data: { ...s, text: undefined }, text: `wrote ${plural(s.layers.length, "layer")}, ${fmtInt(s.parameters)} floats to ${displayPath(s.out)}\n` }));
      },
    );
}
