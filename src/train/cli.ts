// The train, sample and export commands: thin wrappers over train(), sample() and exportModel().

import type { Argv } from "yargs";
// The commands load the trainer (and TensorFlow.js) only when they run.
import type { TrainProgress, TrainSummary } from "./train.js";
import { TRAIN_DEFAULTS, SAMPLE_DEFAULTS, OPTIMIZERS, ACTIVATIONS, defaultThreads } from "./defaults.js";
import { progressEnabled, formatCount, formatSeconds } from "../progress.js";
import { DEFAULT_ICOSPHERE_LEVEL } from "../icosphere.js";
import { cliMessage, type HeadsnetError } from "../errors.js";

export interface TrainIo {
  out(t: string): void;
  err(t: string): void;
}

const EXIT_FAILURE = 1, EXIT_USAGE = 2;

function fail(io: TrainIo, setExitCode: (c: number) => void, error: HeadsnetError, json: boolean): void {
  if (json) io.out(JSON.stringify({ ok: false, error: error.toJSON() }) + "\n");
  io.err(`headsnet: ${cliMessage(error)}\n`);
  setExitCode(error.code === "E_USAGE" ? EXIT_USAGE : EXIT_FAILURE);
}

function progressLine(p: TrainProgress): string {
  const width = 20;
  const frac = p.epochRows ? Math.min(1, p.rows / p.epochRows) : 0;
  const bar = p.epochRows ? `[${"#".repeat(Math.round(frac * width))}${"-".repeat(width - Math.round(frac * width))}] ` : "";
  const of = p.epochRows ? `/${formatCount(p.epochRows)}` : "";
  return `epoch ${p.epoch}/${p.epochs} ${bar}${formatCount(p.rows)}${of} rows  loss ${p.loss.toPrecision(4)}  ${formatCount(p.rowsPerSecond)} rows/s  ETA ${p.eta === undefined ? "?" : formatSeconds(p.eta)}`;
}

function trainText(s: TrainSummary): string {
  const lines = [
    `trained ${s.epochsRun} epoch${s.epochsRun === 1 ? "" : "s"}${s.resumedFrom !== null ? ` (resumed after epoch ${s.resumedFrom})` : ""} on ${s.rowsPerEpoch.toLocaleString("en-US")} rows from ${s.source}: loss ${s.loss.toPrecision(5)}, ${formatSeconds(s.seconds)} (${formatCount(s.rowsPerSecond)} rows/s)`,
    `  ${s.settings.layers} x Dense(${s.settings.units}, ${s.settings.activation}) + Dense(6) on ${s.inputs} inputs, ${s.parameters.toLocaleString("en-US")} parameters; ${s.settings.optimizer} lr ${s.settings.lr}, batch ${s.settings.batch}, ${s.threads} thread${s.threads === 1 ? "" : "s"}`,
    `  model: ${s.out}/model.json`,
  ];
  for (const h of s.history) lines.push(`  epoch ${h.epoch}: loss ${h.loss.toPrecision(5)}, ${h.rows.toLocaleString("en-US")} rows, ${formatSeconds(h.seconds)}`);
  for (const f of s.failed) lines.push(`  failed: ${f.message}`);
  return lines.join("\n") + "\n";
}

export function registerTrainCommands(y: Argv, io: TrainIo, setExitCode: (c: number) => void): Argv {
  return y
    .command(
      "train [data]",
      "train the HeadsNet network (TensorFlow.js, wasm backend) on a dataset, a row stream on stdin ('-'), or PLY files (--from-ply)",
      (c) => c
        .positional("data", { type: "string", describe: "a compile output directory, or '-' to read a row stream (compile --stdout) from stdin" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "model directory (model.json, weights.bin, checkpoint)" })
        .option("from-ply", { type: "string", array: true, describe: "compile these PLY files/directories in this process and train on the rows as they come" })
        .option("layers", { type: "number", default: TRAIN_DEFAULTS.layers, describe: "hidden Dense layers" })
        .option("units", { type: "number", default: TRAIN_DEFAULTS.units, describe: "units per hidden layer" })
        .option("activation", { choices: ACTIVATIONS, default: TRAIN_DEFAULTS.activation, describe: "hidden layers' activation" })
        .option("optimizer", { choices: OPTIMIZERS, default: TRAIN_DEFAULTS.optimizer, describe: "optimizer" })
        .option("lr", { type: "number", default: TRAIN_DEFAULTS.lr, describe: "learning rate" })
        .option("batch", { type: "number", default: TRAIN_DEFAULTS.batch, describe: "rows per step" })
        .option("epochs", { type: "number", default: TRAIN_DEFAULTS.epochs, describe: "passes over the data (with --resume: the total)" })
        .option("limit", { type: "number", describe: "train on the first N rows only (default: all)" })
        .option("seed", { type: "number", default: TRAIN_DEFAULTS.seed, describe: "seed of the initial weights and the shuffles" })
        .option("shuffle-buffer", { type: "number", default: TRAIN_DEFAULTS.shuffleBuffer, describe: "rows held by the shuffle buffer (memory: about 32-44 bytes each)" })
        .option("resume", { type: "boolean", default: false, describe: "continue the checkpoint in -o (its settings) up to --epochs" })
        .option("threads", { alias: "j", type: "number", default: defaultThreads(), describe: "threads sharing each batch (gradients averaged); 1 = this thread only" })
        .option("stock-kernels", { type: "boolean", default: false, describe: "use tfjs's stock wasm kernels instead of headsnet's faster ones" })
        .option("icosphere", { type: "string", default: String(DEFAULT_ICOSPHERE_LEVEL), describe: "--from-ply: icosphere level 0-9 or float32 x y z table file" })
        .option("projection", { choices: ["legacy", "ray"] as const, default: "legacy" as const, describe: "--from-ply: legacy (the reference's step) or ray" })
        .option("inputs", { choices: [2, 5] as const, default: 2 as const, describe: "--from-ply: train_x width (5 adds the ray direction)" })
        .option("id-seed", { type: "number", default: 0, describe: "--from-ply: the compile --seed that model ids derive from" })
        .option("quiet", { alias: "q", type: "boolean", default: false, describe: "no progress line or summary" })
        .option("json", { type: "boolean", default: false, describe: "print a machine-readable summary on stdout" }),
      async (args) => {
        const showProgress = progressEnabled(args.quiet || args.json);
        let lastLine = false;
        const { train } = await import("./train.js");
        const result = await train({
          // yargs turns a lone '-' into an empty string.
          data: args.data === "" ? "-" : (args.data as string | undefined),
          fromPly: args.fromPly as string[] | undefined,
          out: args.out,
          layers: args.layers, units: args.units, activation: args.activation, optimizer: args.optimizer,
          lr: args.lr, batch: args.batch, epochs: args.epochs, limit: args.limit, seed: args.seed,
          shuffleBuffer: args.shuffleBuffer, resume: args.resume, fast: !args.stockKernels, threads: args.threads,
          icosphere: /^\d+$/.test(args.icosphere) ? Number(args.icosphere) : args.icosphere,
          projection: args.projection, inputs: args.inputs, idSeed: args.idSeed,
          onProgress: showProgress ? (p) => {
            lastLine = true;
            process.stderr.write(`\r${progressLine(p).slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
          } : undefined,
        });
        if (lastLine) process.stderr.write("\n");
        if (result.error) return fail(io, setExitCode, result.error, args.json);
        const s = result.summary!;
        if (args.json) io.out(JSON.stringify({ ok: true, ...s }) + "\n");
        else if (!args.quiet) io.out(trainText(s));
      },
    )
    .command(
      "sample <model>",
      "evaluate a trained model at (id, i/points) for every point and write the head as a PLY (or CSV)",
      (c) => c
        .positional("model", { type: "string", demandOption: true, describe: "a model directory written by train" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output file (.ply, or .csv)" })
        .option("id", { type: "number", describe: "model id in [0, 1] to draw (default: one drawn from --seed)" })
        .option("seed", { type: "number", default: SAMPLE_DEFAULTS.seed, describe: "seed of the drawn id and of the ray directions" })
        .option("points", { type: "number", default: SAMPLE_DEFAULTS.points, describe: "points to evaluate" })
        .option("format", { choices: ["ply", "csv"] as const, describe: "output format (default: from the file name, else ply)" })
        .option("cone", { type: "number", default: SAMPLE_DEFAULTS.cone, describe: "5-input models: half-angle in degrees of the cone of ray directions around each icosphere point" })
        .option("icosphere", { type: "string", describe: "5-input models: icosphere level or table (default: the one the model was trained with)" })
        .option("json", { type: "boolean", default: false, describe: "print a machine-readable summary on stdout" }),
      async (args) => {
        const { sample } = await import("./sample.js");
        const result = await sample({
          model: args.model as string, out: args.out, id: args.id, seed: args.seed, points: args.points,
          format: args.format, cone: args.cone,
          icosphere: args.icosphere === undefined ? undefined : /^\d+$/.test(args.icosphere) ? Number(args.icosphere) : args.icosphere,
        });
        if (result.error) return fail(io, setExitCode, result.error, args.json);
        const s = result.summary!;
        if (args.json) io.out(JSON.stringify({ ok: true, ...s }) + "\n");
        else io.out(`wrote ${s.points.toLocaleString("en-US")} points of model id ${s.id} to ${s.out} (${s.format}, ${formatCount(s.bytes)}B)${s.cone !== null ? `, ray directions in a ${s.cone} degree cone` : ""}\n`);
      },
    )
    .command(
      "export <model>",
      "export a trained model's weights as C arrays (per layer, each unit's weights followed by its bias)",
      (c) => c
        .positional("model", { type: "string", demandOption: true, describe: "a model directory written by train" })
        .option("format", { choices: ["c-header"] as const, default: "c-header" as const, describe: "output format" })
        .option("out", { alias: "o", type: "string", describe: "output file (default: stdout)" })
        .option("name", { type: "string", default: "headsnet", describe: "prefix of the C identifiers" }),
      async (args) => {
        const { exportModel } = await import("./export.js");
        const result = await exportModel({ model: args.model as string, format: args.format, out: args.out, name: args.name });
        if (result.error) return fail(io, setExitCode, result.error, false);
        const s = result.summary!;
        if (s.out) io.out(`wrote ${s.layers.length} layers, ${s.parameters.toLocaleString("en-US")} floats to ${s.out}\n`);
        else io.out(s.text);
      },
    );
}
