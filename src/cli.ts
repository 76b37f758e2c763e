// The command line: thin wrappers over the programmatic API. main() returns the exit code.

import yargs, { type Argv } from "yargs";
import { join } from "node:path";
import { compile, type CompileSummary } from "./compile.js";
// Commands other than compile load their modules when they run: start-up time is part of every
// compile's time.
import type { VerifyReport } from "./verify.js";
import type { InspectReport } from "./inspect.js";
import { ProgressBar, progressEnabled, formatCount, formatSeconds } from "./progress.js";
import { defaultWorkers } from "./pool.js";
import { DEFAULT_ICOSPHERE_LEVEL } from "./icosphere.js";
import { HeadsnetError } from "./errors.js";
import { VERSION } from "./package.js";
import { registerTrainCommands } from "./train/cli.js";
import { registerViewCommands } from "./view/cli.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

function printError(io: Io, error: HeadsnetError | { message: string }): void {
  io.err(`headsnet: ${error.message}\n`);
}

function summaryText(s: CompileSummary): string {
  const lines = [
    ...(s.resumedFrom ? [`resumed an interrupted run after ${s.resumedFrom.files} files (${s.resumedFrom.rows.toLocaleString("en-US")} rows)`] : []),
    `compiled ${s.compiled} of ${s.files} files: ${s.rows.toLocaleString("en-US")} rows in ${formatSeconds(s.seconds)} (${formatCount(s.rowsPerSecond)} rows/s, ${s.workers} worker${s.workers > 1 ? "s" : ""})`,
    `  ${join(s.out, s.outputs.x)}, ${join(s.out, s.outputs.y)}, ${join(s.out, s.outputs.manifest)}`,
    `  icosphere: ${s.icosphere.vertices} vertices (${s.icosphere.source})`,
  ];
  if (s.skipped.nonfinite) lines.push(`  skipped ${s.skipped.nonfinite} non-finite vertices (--on-nonfinite skip; counted per model in the manifest)`);
  if (s.skipped.outsideSphere) lines.push(`  skipped ${s.skipped.outsideSphere} vertices outside the unit sphere (--projection ray)`);
  for (const f of s.failed) lines.push(`  failed: ${f.message}`);
  if (s.failed.length) lines.push(`${s.failed.length} of ${s.files} files failed; the dataset holds the others (see "failed" in the manifest)`);
  return lines.join("\n") + "\n";
}

function verifyText(r: VerifyReport): string {
  const lines = [`${r.ok ? "ok" : "FAILED"}: ${r.dir}: ${r.rows.toLocaleString("en-US")} rows, ${r.models} models`];
  if (r.columns.x.length) {
    for (const c of [...r.columns.x, ...r.columns.y]) {
      lines.push(`  ${c.name.padEnd(12)} [${c.min.toPrecision(6)}, ${c.max.toPrecision(6)}]  NaN ${c.nan}  Inf ${c.inf}`);
    }
    lines.push(`  ${r.distinctIds} distinct model ids, ${r.indicesUsed} icosphere vertices used`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return lines.join("\n") + "\n";
}

function inspectText(r: InspectReport): string {
  const lines = [`${r.file}: ${r.bytes.toLocaleString("en-US")} bytes`];
  if (r.header) {
    lines.push(`  format ${r.header.format} ${r.header.version}`);
    for (const c of r.header.comments) lines.push(`  comment ${c}`);
    for (const e of r.header.elements) {
      lines.push(`  element ${e.name} ${e.count}`);
      for (const p of e.properties) lines.push(`    property ${p}`);
    }
  }
  if (r.vertices !== undefined) {
    lines.push(`  ${r.vertices} vertices; normals: ${r.hasNormals ? "yes" : "no (computed from the faces)"}; colours: ${r.hasColors ? "yes" : "no (compile needs --default-color)"}`);
  }
  if (r.bounds) {
    const f = (v: number[]) => v.map((n) => n.toFixed(4)).join(", ");
    lines.push(`  bounding box [${f(r.bounds.min)}] to [${f(r.bounds.max)}]; max |v| ${r.bounds.maxRadius.toFixed(4)}${r.bounds.maxRadius > 1 ? " (outside the unit sphere)" : ""}`);
  }
  if (r.colors) {
    const f = (v: number[]) => v.map((n) => n.toFixed(3)).join(", ");
    lines.push(`  colours [${f(r.colors.min)}] to [${f(r.colors.max)}]`);
  }
  if (r.compile) {
    lines.push(`  compile (--projection ${r.compile.projection}): ${r.compile.rows} rows, ${r.compile.indicesUsed} of ${r.compile.icosphereVertices} icosphere vertices used`);
  }
  if (r.error) lines.push(`  error: ${r.error.message}`);
  return lines.join("\n") + "\n";
}

const icosphereOption = {
  type: "string",
  default: String(DEFAULT_ICOSPHERE_LEVEL),
  describe: "icosphere: a subdivision level 0-9; blender (alias reference): the reference's 10,242-vertex table, built in; or a float32 x y z table file",
} as const;

const projectionOption = {
  choices: ["legacy", "ray"] as const,
  default: "legacy" as const,
  describe: "legacy: the reference's step along the normal (bit-exact); ray: exact ray-sphere hit",
};

function parseColor(value: string): [number, number, number] {
  const parts = value.split(",").map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !(p >= 0 && p <= 1))) {
    throw new HeadsnetError("E_USAGE", `--default-color expects R,G,B with each from 0 to 1 (e.g. 0.8,0.6,0.5), got ${JSON.stringify(value)}`);
  }
  return parts as [number, number, number];
}

function icosphereSpec(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * yargs renders a command's whole help text before running it, in case the command fails and the
 * help is to be shown; that costs a compile 20-30 ms of start-up. Errors here print their own
 * message and point at --help, so that text is never used: skip it. (An internal of yargs 18; if
 * it is not there, nothing changes.)
 */
function skipHelpCache(parser: Argv): void {
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } });
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let exitCode = EXIT_OK;
  const parser: Argv = yargs(argv)
    .scriptName("headsnet")
    .version(VERSION)
    .usage("$0 <command> [options]\n\nCompile PLY head meshes into HeadsNet training data, exact and fast.")
    .strict()
    .demandCommand(1, "name a command: compile, verify, inspect, synth, demo, view, render, train, sample or export")
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new HeadsnetError("E_USAGE", message);
    })
    .command(
      "compile <paths..>",
      "compile PLY files and directories (recursing into *.ply) into train_x/train_y",
      (y) => y
        .positional("paths", { type: "string", array: true, demandOption: true, describe: "PLY files and directories (recursing into *.ply)" })
        .option("out", { alias: "o", type: "string", describe: "output directory (required unless --stdout)" })
        .option("stdout", { type: "boolean", default: false, describe: "write the rows to stdout as a row stream, for 'headsnet train -' (see src/train/README.md)" })
        .check((a) => {
          if (!a.out && !a.stdout) throw new HeadsnetError("E_USAGE", "Missing required argument: out (or --stdout)");
          return true;
        })
        .option("workers", { alias: "j", type: "number", default: defaultWorkers(), describe: "worker threads (default: available cores)" })
        .option("icosphere", icosphereOption)
        .option("projection", projectionOption)
        .option("inputs", { choices: [2, 5] as const, default: 2 as const, describe: "train_x width: 2 = [id, index]; 5 adds the ray direction [-nx, -ny, -nz]" })
        .option("seed", { type: "number", default: 0, describe: "model ids are a pure function of the seed and each file's path under its input" })
        .option("format", { choices: ["dat", "npy"] as const, default: "dat" as const, describe: "raw float32 (.dat, numpy.fromfile) or .npy (numpy.load)" })
        .option("normals", { choices: ["auto", "file", "compute"] as const, default: "auto" as const, describe: "vertex normals: the file's, else computed from its faces (auto); only the file's; always computed (angle-weighted, as Blender)" })
        .option("normalize", { choices: ["none", "fit"] as const, default: "none" as const, describe: "fit: centre each mesh's bounding box and scale its largest half-extent to 0.55 (the published corpus's scaling)" })
        .option("on-nonfinite", { choices: ["fail", "skip"] as const, default: "fail" as const, describe: "a NaN/Inf vertex (or, with --projection ray, one outside the unit sphere) fails its file, or is skipped and counted" })
        .option("default-color", { type: "string", describe: "R,G,B (0-1 each) for files without colours [default: such files fail]" })
        .option("strict", { type: "boolean", default: false, describe: "stop at the first file that fails and leave no output" })
        .option("resume", { type: "boolean", default: false, describe: "finish the interrupted run in -o DIR from its last checkpoint (same inputs and options); starts afresh if there is none" })
        .option("quiet", { alias: "q", type: "boolean", default: false, describe: "no progress bar or summary" })
        .option("json", { type: "boolean", default: false, describe: "print a machine-readable summary on stdout" }),
      async (args) => {
        const kernelOptions = {
          normals: args.normals, normalize: args.normalize, onInvalid: args.onNonfinite,
          defaultColor: args.defaultColor === undefined ? undefined : parseColor(args.defaultColor),
        };
        if (args.stdout) {
          // The rows go to stdout, so nothing else may: messages go to stderr.
          const { compileToRowStream } = await import("./train/compile-stream.js");
          const r = await compileToRowStream({
            inputs: args.paths as string[], icosphere: icosphereSpec(args.icosphere), projection: args.projection,
            inputWidth: args.inputs, seed: args.seed, kernel: kernelOptions,
          }, process.stdout);
          if (r.error) {
            printError(io, r.error);
            exitCode = r.error.code === "E_USAGE" ? EXIT_USAGE : EXIT_FAILURE;
            return;
          }
          for (const f of r.summary!.failed) io.err(`headsnet: ${f.message}\n`);
          if (r.summary!.failed.length) exitCode = EXIT_FAILURE;
          return;
        }
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        // Ctrl-C (or SIGTERM) stops after the files in flight, with a checkpoint --resume uses.
        const stop = new AbortController();
        let signals = 0;
        const onSignal = () => {
          if (++signals > 1) process.exit(EXIT_INTERRUPTED);
          bar?.done();
          io.err("headsnet: stopping after the files in flight (press Ctrl-C again to quit at once)\n");
          stop.abort();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
        const result = await compile({
          inputs: args.paths as string[],
          out: args.out!,
          workers: args.workers,
          icosphere: icosphereSpec(args.icosphere),
          projection: args.projection,
          inputWidth: args.inputs,
          seed: args.seed,
          format: args.format,
          normals: kernelOptions.normals,
          normalize: kernelOptions.normalize,
          onNonfinite: kernelOptions.onInvalid,
          defaultColor: kernelOptions.defaultColor,
          strict: args.strict,
          resume: args.resume,
          signal: stop.signal,
          onProgress: bar ? (p) => bar.update(p) : undefined,
        }).finally(() => {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        });
        if (!stop.signal.aborted) bar?.done();
        if (result.error) {
          if (args.json) io.out(JSON.stringify({ ok: false, error: result.error.toJSON() }) + "\n");
          printError(io, result.error);
          exitCode = result.error.code === "E_USAGE" ? EXIT_USAGE : result.error.code === "E_INTERRUPTED" ? EXIT_INTERRUPTED : EXIT_FAILURE;
          return;
        }
        const s = result.summary!;
        if (args.json) io.out(JSON.stringify({ ok: s.failed.length === 0, ...s }) + "\n");
        else if (!args.quiet) io.out(summaryText(s));
        for (const f of s.failed) if (args.quiet || args.json) io.err(`headsnet: ${f.message}\n`);
        if (s.failed.length) exitCode = EXIT_FAILURE;
      },
    )
    .command(
      "verify <dir>",
      "check a compiled dataset: sizes against the manifest, NaN/Inf, id and index ranges",
      (y) => y
        .positional("dir", { type: "string", demandOption: true, describe: "a compile output directory" })
        .option("json", { type: "boolean", default: false, describe: "print the report as JSON" }),
      async (args) => {
        const { verify } = await import("./verify.js");
        const report = await verify(args.dir as string);
        io.out(args.json ? JSON.stringify(report) + "\n" : verifyText(report));
        if (!report.ok) exitCode = EXIT_FAILURE;
      },
    )
    .command(
      "inspect <file>",
      "show a PLY file's header, counts, bounding box and what compile would do with it",
      (y) => y
        .positional("file", { type: "string", demandOption: true, describe: "a PLY file" })
        .option("icosphere", icosphereOption)
        .option("projection", projectionOption)
        .option("json", { type: "boolean", default: false, describe: "print the report as JSON" }),
      async (args) => {
        const { inspect } = await import("./inspect.js");
        const report = inspect(args.file as string, { projection: args.projection, icosphere: icosphereSpec(args.icosphere) });
        io.out(args.json ? JSON.stringify(report) + "\n" : inspectText(report));
        if (report.error) exitCode = EXIT_FAILURE;
      },
    )
    .command(
      "synth",
      "write a built-in corpus of synthetic heads (Blender's PLY export layout)",
      (y) => y
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output directory" })
        .option("count", { alias: "n", type: "number", default: 10, describe: "number of heads" })
        .option("vertices", { type: "number", default: 94000, describe: "vertices per head" })
        .option("seed", { type: "number", default: 0, describe: "corpus seed; head i is the same for any count" })
        .option("quiet", { alias: "q", type: "boolean", default: false, describe: "no summary" }),
      async (args) => {
        const { synthCorpus } = await import("./synth.js");
        const result = await synthCorpus({ out: args.out, count: args.count, vertices: args.vertices, seed: args.seed });
        if (!args.quiet) io.out(`wrote ${result.files.length} heads, ${result.vertices.toLocaleString("en-US")} vertices, ${formatCount(result.bytes)}B to ${result.dir}\n`);
      },
    )
    .command(
      "demo",
      "synthesize a corpus, compile it, verify it and print a summary (what `npm start` runs)",
      (y) => y
        .option("dir", { type: "string", default: "demo", describe: "working directory for the corpus and the dataset" })
        .option("count", { alias: "n", type: "number", default: 24, describe: "number of heads" })
        .option("vertices", { type: "number", default: 94000, describe: "vertices per head" })
        .option("workers", { alias: "j", type: "number", default: defaultWorkers(), describe: "worker threads" }),
      async (args) => {
        const corpus = join(args.dir, "corpus");
        const out = join(args.dir, "dataset");
        io.out(`1/3 synthesizing ${args.count} heads of ${args.vertices} vertices in ${corpus}\n`);
        const [{ synthCorpus }, { verify }] = await Promise.all([import("./synth.js"), import("./verify.js")]);
        await synthCorpus({ out: corpus, count: args.count, vertices: args.vertices, seed: 0 });
        io.out(`2/3 compiling into ${out}\n`);
        const bar = progressEnabled(false) ? new ProgressBar() : undefined;
        const result = await compile({ inputs: [corpus], out, workers: args.workers, onProgress: bar ? (p) => bar.update(p) : undefined });
        bar?.done();
        if (result.error) {
          printError(io, result.error);
          exitCode = EXIT_FAILURE;
          return;
        }
        io.out(summaryText(result.summary!));
        io.out(`3/3 verifying ${out}\n`);
        const report = await verify(out);
        io.out(verifyText(report));
        if (!report.ok || result.summary!.failed.length) exitCode = EXIT_FAILURE;
      },
    );
  registerTrainCommands(parser, io, (code) => { exitCode = code; });
  registerViewCommands(parser, io, (c) => { exitCode = c; });
  skipHelpCache(parser);

  try {
    await parser.parseAsync();
  } catch (e) {
    if (e instanceof HeadsnetError && e.code === "E_USAGE") {
      io.err(`headsnet: ${e.message}\nRun 'headsnet --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof HeadsnetError) {
      printError(io, e);
      return EXIT_FAILURE;
    }
    if (e instanceof Error && e.name === "YError") {
      io.err(`headsnet: ${e.message}\nRun 'headsnet --help' for usage.\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  return exitCode;
}
