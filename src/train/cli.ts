// The train, sample and export commands: thin wrappers over train(), sample() and exportModel().

import type { Argv } from "yargs";
import { existsSync } from "node:fs";
import { errors } from "../errors.js";
// The commands load the trainer (and TensorFlow.js) only when they run.
import type { TrainProgress, TrainSummary } from "./train.js";
import { TRAIN_DEFAULTS, SAMPLE_DEFAULTS, OPTIMIZERS, ACTIVATIONS, CHECKPOINT_SECONDS, defaultThreads } from "./defaults.js";
import { progressEnabled, formatCount, formatSeconds, ProgressBar } from "../progress.js";
import { DEFAULT_ICOSPHERE_LEVEL } from "../icosphere.js";
import { finish, outcomeOf, withCommonOptions, workersOption, fmtInt, plural, displayPath, mustExist, withInterrupt, type Io } from "../cli-common.js";

export type TrainIo = Io;

function progressText(p: TrainProgress): string {
  const of = p.epochRows ? `/${formatCount(p.epochRows)}` : "";
  return `epoch ${p.epoch}/${p.epochs}  ${formatCount(p.rows)}${of} rows  loss ${p.loss.toPrecision(4)}  ${formatCount(p.rowsPerSecond)} rows/s  ETA ${formatSeconds(p.eta)}`;
}

function trainText(s: TrainSummary): string {
  const lines = [
    `trained ${plural(s.epochsRun, "epoch")}${s.resumedFrom !== null ? ` (resumed after epoch ${s.resumedFrom})` : ""} on ${plural(s.rowsPerEpoch, "row")} from ${s.source}: loss ${s.loss.toPrecision(5)}, ${formatSeconds(s.seconds)} (${formatCount(s.rowsPerSecond)} rows/s)`,
    `  ${s.settings.layers} x Dense(${s.settings.units}, ${s.settings.activation}) + Dense(6) on ${s.inputs} inputs, ${fmtInt(s.parameters)} parameters; ${s.settings.optimizer} lr ${s.settings.lr}, batch ${s.settings.batch}, ${plural(s.threads, "thread")}`,
    `  model: ${displayPath(s.out)}/model.json`,
  ];
  for (const h of s.history) lines.push(`  epoch ${h.epoch}: loss ${h.loss.toPrecision(5)}, ${plural(h.rows, "row")}, ${formatSeconds(h.seconds)}`);
  for (const f of s.failed) lines.push(`  failed: ${f.message}`);
  return lines.join("\n") + "\n";
}

/** yargs turns a lone '-' into an empty string; one path is a string, several a list of shards. */
function dataArgument(data: string[] | undefined): string | string[] | undefined {
  if (!data?.length) return undefined;
  const paths = data.map((d) => (d === "" ? "-" : d));
  return paths.length === 1 ? paths[0] : paths;
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
        .option("lr", { type: "number", default: TRAIN_DEFAULTS.lr, describe: "learning rate" })
        .option("batch", { type: "number", default: TRAIN_DEFAULTS.batch, describe: "rows per step" })
        .option("epochs", { type: "number", default: TRAIN_DEFAULTS.epochs, describe: "passes over the data (with --resume: the total)" })
        .option("limit", { type: "number", describe: "train on the first N rows only (default: all)" })
        .option("seed", { type: "number", default: TRAIN_DEFAULTS.seed, describe: "seed of the initial weights and the shuffles" })
        .option("shuffle-buffer", { type: "number", default: TRAIN_DEFAULTS.shuffleBuffer, describe: "rows held by the shuffle buffer (memory: about 32-44 bytes each)" })
        .option("resume", { type: "boolean", default: false, describe: "continue the checkpoint in -o (its settings) up to --epochs" })
        .option("workers", workersOption(defaultThreads(), "threads sharing each batch (gradients averaged); 1 = this thread only"))
        .option("stock-kernels", { type: "boolean", default: false, describe: "use tfjs's stock wasm kernels instead of headsnet's faster ones" })
        .option("icosphere", { type: "string", default: String(DEFAULT_ICOSPHERE_LEVEL), describe: "--from-ply: icosphere level 0-9 or float32 x y z table file" })
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
          onProgress: bar ? (p) => bar.show(p.epochRows ? p.rows / p.epochRows : 0, progressText(p)) : undefined,
          onCheckpoint: logCheckpoints ? (c) => io.err(`headsnet: checkpoint: epoch ${c.epoch}, ${c.endOfEpoch ? "end" : `step ${fmtInt(c.step)}`}, loss ${c.loss.toPrecision(5)} (${displayPath(c.out)})\n`) : undefined,
        }));
        bar?.clear();
        setExitCode(finish(io, "train", args, result.error ? { error: result.error } : { data: { ...result.summary }, text: trainText(result.summary!) }));
      },
    )
    .command(
      "sample <model>",
      "evaluate a trained model at (id, i/points) for every point and write the head as a PLY (or CSV)",
      (c) => withCommonOptions(c
        .positional("model", { type: "string", demandOption: true, describe: "a model directory written by train" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output file (.ply, or .csv)" })
        .option("id", { type: "number", describe: "model id in [0, 1] to draw (default: one drawn from --seed)" })
        .option("seed", { type: "number", default: SAMPLE_DEFAULTS.seed, describe: "seed of the drawn id and of the ray directions" })
        .option("points", { type: "number", default: SAMPLE_DEFAULTS.points, describe: "points to evaluate" })
        .option("format", { choices: ["ply", "csv"] as const, describe: "output format (default: from the file name, else ply)" })
        .option("cone", { type: "number", default: SAMPLE_DEFAULTS.cone, describe: "5-input models: half-angle in degrees of the cone of ray directions around each icosphere point" })
        .option("icosphere", { type: "string", describe: "5-input models: icosphere level or table (default: the one the model was trained with)" })),
      async (args) => {
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        const outcome = await outcomeOf(async () => {
          mustExist(args.model as string);
          const { sample } = await import("./sample.js");
          const result = await sample({
            model: args.model as string, out: args.out, id: args.id, seed: args.seed, points: args.points,
            format: args.format, cone: args.cone, icosphere: args.icosphere,
            onProgress: bar ? (k, n) => bar.show(k / n, `${formatCount(k)}/${formatCount(n)} points`) : undefined,
          });
          bar?.clear();
          if (result.error) return { error: result.error };
          const s = result.summary!;
          return {
            data: { ...s },
            text: `wrote ${plural(s.points, "point")} of model id ${s.id} to ${displayPath(s.out)} (${s.format}, ${formatCount(s.bytes)}B)${s.cone !== null ? `, ray directions in a ${s.cone} degree cone` : ""}\n`,
          };
        });
        setExitCode(finish(io, "sample", args, outcome));
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
