// The command line: thin wrappers over the programmatic API. main() returns the exit code; it
// never exits the process, and nothing it does ends in a stack trace: HeadsnetErrors print as one
// line, anything unexpected as one line naming what failed and how to see the details.
// Every command takes -h/--help, -q/--quiet and --json, and prints through cli-common.ts.

import yargs, { type Argv } from "yargs";
import { join } from "node:path";
import { homedir } from "node:os";
import { compile, type CompileSummary } from "./compile/index.js";
// Commands other than compile load their modules when they run: start-up time is part of every
// compile's time.
import type { VerifyReport } from "./verify.js";
import type { InspectReport } from "./inspect.js";
import { ProgressBar, progressEnabled, compileProgressText, formatCount, formatSeconds } from "./progress.js";
import { defaultWorkers } from "./pool.js";
import { DEFAULT_ICOSPHERE_LEVEL } from "./icosphere.js";
import { setCacheDir } from "./setup-cache.js";
import { parseShard } from "./compile/shard.js";
// (Part of the core bundle anyway: the dataset reader uses it.)
import { merge } from "./dataset/shards.js";
import { HeadsnetError, setMessageStyle, usageError } from "./errors.js";
import { VERSION } from "./package.js";
import { registerTrainCommands } from "./train/cli.js";
import { registerViewCommands } from "./view/cli.js";
import {
  EXIT_FAILURE, EXIT_USAGE, finish, outcomeOf, withCommonOptions, workersOption, fmtInt, plural,
  displayPath, didYouMean, helpHint, mustExist, withInterrupt, parseColor, type Io, type Outcome,
} from "./cli-common.js";

export { EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED } from "./cli-common.js";

const COMMANDS = ["compile", "merge", "verify", "inspect", "synth", "demo", "train", "sample", "export", "eval", "view", "render", "help"];

const defaultIo: Io & { stdoutIsTerminal?: boolean } = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Where the icosphere's cube map is cached: $HEADSNET_CACHE_DIR, else $XDG_CACHE_HOME/headsnet, else ~/.cache/headsnet. */
function cacheDirFromEnv(): string {
  return process.env.HEADSNET_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "headsnet");
}

function summaryText(s: CompileSummary): string {
  const lines = [
    // One row per model (voxels, images): files per second say more than rows.
    `compiled ${fmtInt(s.compiled)} of ${plural(s.files, "file")}: ${plural(s.rows, "row")} in ${formatSeconds(s.seconds)} (${s.rows === s.compiled ? `${formatCount(s.compiled / s.seconds)} files/s` : `${formatCount(s.rowsPerSecond)} rows/s`}, ${plural(s.workers, "worker")})`,
    `  ${s.outputs.map((name) => displayPath(join(s.out, name))).join(", ")}`,
  ];
  if (s.icosphere) lines.push(`  icosphere: ${fmtInt(s.icosphere.vertices)} vertices (${s.icosphere.source})`);
  if (s.skipped.nonfinite) lines.push(`  skipped ${plural(s.skipped.nonfinite, "non-finite vertex", "non-finite vertices")} (--on-nonfinite skip; counted per model in the manifest)`);
  if (s.skipped.outsideSphere) lines.push(`  skipped ${plural(s.skipped.outsideSphere, "vertex", "vertices")} outside the unit sphere (--projection ray)`);
  if (s.skipped.tooFar) lines.push(`  skipped ${plural(s.skipped.tooFar, "vertex", "vertices")} traced 9999 or more from every icosphere vertex (the reference writes no row for them)`);
  if (s.skipped.transparent) lines.push(`  left out ${plural(s.skipped.transparent, "splat")} less opaque than --min-opacity (counted per model in the manifest)`);
  for (const f of s.failed) lines.push(`  failed: ${f.message}`);
  if (s.failed.length) lines.push(`${fmtInt(s.failed.length)} of ${plural(s.files, "file")} failed; the dataset holds the others (see "failed" in the manifest)`);
  return lines.join("\n") + "\n";
}

function verifyText(r: VerifyReport): string {
  const lines = [`${r.ok ? "ok" : "FAILED"}: ${displayPath(r.dir)}: ${plural(r.rows, "row")}, ${plural(r.models, "model")}`];
  const columns = Object.values(r.columns).flat();
  if (columns.length) {
    for (const c of columns) {
      const range = c.min <= c.max ? `[${c.min.toPrecision(6)}, ${c.max.toPrecision(6)}]` : "(no values)";
      lines.push(`  ${c.name.padEnd(12)} ${range}  NaN ${fmtInt(c.nan)}  Inf ${fmtInt(c.inf)}`);
    }
    if (r.target === "headsnet") lines.push(`  ${plural(r.distinctIds, "distinct model id")}, ${plural(r.indicesUsed, "icosphere vertex", "icosphere vertices")} used`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return lines.join("\n") + "\n";
}

function inspectText(r: InspectReport): string {
  const lines = [`${displayPath(r.file)}: ${plural(r.bytes, "byte")}`];
  if (r.header) {
    lines.push(`  format ${r.header.format} ${r.header.version}`);
    for (const c of r.header.comments) lines.push(`  comment ${c}`);
    for (const e of r.header.elements) {
      lines.push(`  element ${e.name} ${fmtInt(e.count)}`);
      for (const p of e.properties) lines.push(`    property ${p}`);
    }
  }
  if (r.vertices !== undefined) {
    const normals = r.hasNormals ? "yes" : r.kind === "mesh" ? "no (computed from the faces)" : "no";
    lines.push(`  ${plural(r.vertices, "vertex", "vertices")}; normals: ${normals}; colours: ${r.hasColors ? "yes" : "no (compile needs --default-color)"}`);
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
    lines.push(`  compile (--projection ${r.compile.projection}): ${plural(r.compile.rows, "row")}, ${fmtInt(r.compile.indicesUsed)} of ${fmtInt(r.compile.icosphereVertices)} icosphere vertices used`);
  }
  for (const n of r.notes) lines.push(`  ${n}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
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

export async function main(argv: string[], io: Io & { stdoutIsTerminal?: boolean } = defaultIo): Promise<number> {
  setCacheDir(cacheDirFromEnv());
  setMessageStyle("cli");
  let exitCode = 0;
  const command = COMMANDS.includes(argv[0]) ? argv[0] : undefined;
  const done = (cmd: string, flags: { json?: boolean; quiet?: boolean }, outcome: Outcome) => { exitCode = finish(io, cmd, flags, outcome); };
  const parser: Argv = yargs(argv)
    .scriptName("headsnet")
    .usage("$0 <command> [options]\n\nCompile PLY head meshes into HeadsNet training data, exact and fast.")
    .version("version", "show the version", VERSION)
    .alias("v", "version")
    .help("help", "show help")
    .alias("h", "help")
    .strict()
    .demandCommand(1, "name a command: compile, merge, verify, inspect, synth, demo, view, render, train, sample, export or help")
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      throw usageError(withSuggestion(message, parser, argv[0]));
    })
    .command(
      "compile <paths..>",
      "compile meshes (PLY files and directories, recursing) into training data: HeadsNet's rows, or another target's",
      (y) => withCommonOptions(y
        .positional("paths", { type: "string", array: true, demandOption: true, describe: "PLY (and, for the mesh targets, OBJ) files and directories, recursing into them" })
        .option("target", { choices: ["headsnet", "voxels", "surface", "occupancy", "images"] as const, default: "headsnet" as const, describe: "headsnet: HeadsNet's rows (train_x, train_y); voxels: FaceNet's front views and volumes; surface: NeuralParts' surface samples; occupancy: labelled volume samples; images: RGB renders" })
        .option("out", { alias: "o", type: "string", describe: "output directory (required unless --stdout)" })
        .option("stdout", { type: "boolean", default: false, describe: "write the rows to stdout as a row stream, for 'headsnet train -' (see src/train/README.md)" })
        .option("workers", workersOption(defaultWorkers(), "worker threads (default: available cores)"))
        .option("icosphere", icosphereOption)
        .option("projection", projectionOption)
        .option("inputs", { choices: [2, 5] as const, default: 2 as const, describe: "train_x width: 2 = [id, index]; 5 adds the ray direction [-nx, -ny, -nz]" })
        .option("seed", { type: "number", default: 0, describe: "model ids are a pure function of the seed and each file's path under its input" })
        .option("ids", { choices: ["hash", "spread"] as const, default: "hash" as const, describe: "model ids: hash (of the seed and path; adding a file moves no other id) or spread (evenly spaced in sorted order)" })
        .option("format", { choices: ["dat", "npy"] as const, default: "dat" as const, describe: "raw float32 (.dat, numpy.fromfile) or .npy (numpy.load)" })
        .option("normals", { choices: ["auto", "file", "compute"] as const, default: "auto" as const, describe: "vertex normals: the file's, else computed from its faces (auto); only the file's; always computed (angle-weighted, as Blender)" })
        .option("normalize", { choices: ["none", "fit"] as const, default: "none" as const, describe: "fit: centre each mesh's bounding box and scale its largest half-extent to 0.55 (the published corpus's scaling)" })
        .option("on-nonfinite", { choices: ["fail", "skip"] as const, default: "fail" as const, describe: "a vertex that cannot be traced (NaN/Inf, 9999 from every icosphere vertex, or with --projection ray outside the sphere) fails its file, or is skipped and counted" })
        .option("default-color", { type: "string", describe: "R,G,B (0-1 each) for files without colours [default: such files fail]" })
        .option("min-opacity", { type: "number", describe: "3D Gaussian splats: leave out splats less opaque than this (0-1)" })
        .option("grid", { type: "number", default: 32, describe: "voxels: cells per side of each volume" })
        .option("voxel-value", { choices: ["color", "occupancy"] as const, default: "color" as const, describe: "voxels: each voxel's mean grey (color) or 255 where a vertex lies (occupancy)" })
        .option("image-size", { type: "number", describe: "voxels: side of the grayscale front view in train_x [32]; images: side of the RGB render [224]" })
        .option("images", { type: "string", describe: "voxels: train_x from the face pictures (PNG, JPEG) in DIR, matched to meshes by path stem (sub/head.ply -> DIR/sub/head.png, else DIR/**/head.png), instead of the rendered front view" })
        .option("samples", { type: "number", default: 100_000, describe: "surface, occupancy: samples per mesh" })
        .option("surface-normals", { choices: ["face", "vertex"] as const, default: "face" as const, describe: "surface: each sample's normal, its triangle's or interpolated from the vertices'" })
        .option("margin", { type: "number", default: 0.1, describe: "occupancy: the box around each mesh grows by this share of its extent on every side" })
        .option("sigma", { type: "number", default: 0.01, describe: "occupancy: near-surface samples move off the surface by Gaussian noise of this share of the extent" })
        .option("uniform-share", { type: "number", default: 0.5, describe: "occupancy: the share of samples uniform in the box; the rest lie near the surface" })
        .option("strict", { type: "boolean", default: false, describe: "stop at the first file that fails and leave no output" })
        .option("overwrite", { type: "boolean", default: false, describe: "replace a finished dataset in -o DIR (it is kept until the new one is complete)" })
        .option("resume", { type: "boolean", default: false, describe: "finish the interrupted run in -o DIR from its last checkpoint (same inputs and options); starts afresh if there is none" })
        .option("shard", { type: "string", describe: "K/N: compile the K-th of N parts of the sorted inputs (balanced by bytes), a dataset of its own for 'headsnet merge'; auto (or auto/N): K and N from a Kubernetes Indexed Job or a Slurm array" }),
        "no progress bar, no summary and no warnings"),
      async (args) => {
        const flags = { json: args.json, quiet: args.quiet };
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        const outcome = await outcomeOf(async (): Promise<Outcome> => {
          const kernel = {
            normals: args.normals, normalize: args.normalize, onInvalid: args.onNonfinite,
            defaultColor: args.defaultColor === undefined ? undefined : parseColor(args.defaultColor),
            minOpacity: args.minOpacity,
          };
          if (args.stdout) {
            if (args.out !== undefined) throw usageError("--stdout writes the rows to stdout and -o DIR writes a dataset: pass one of them");
            if (io.stdoutIsTerminal ?? process.stdout.isTTY) throw usageError("--stdout writes binary rows, and stdout is a terminal: pipe it into 'headsnet train -', or write a dataset with -o DIR");
            // The rows go to stdout, so nothing else may: messages go to stderr.
            const { compileToRowStream } = await import("./train/compile-stream.js");
            const r = await compileToRowStream({
              inputs: args.paths as string[], icosphere: args.icosphere, projection: args.projection,
              inputWidth: args.inputs, seed: args.seed, kernel,
            }, process.stdout);
            if (r.error) return { error: r.error };
            for (const f of r.summary!.failed) io.err(`headsnet: ${f.message}\n`);
            // stdout is the stream: no --json body there.
            flags.json = false;
            return { failed: r.summary!.failed.length > 0 };
          }
          if (!args.out) throw usageError("Missing required argument: out (-o DIR, or --stdout)");
          const result = await withInterrupt(() => {
            bar?.clear();
            io.err("headsnet: stopping after the files in flight (press Ctrl-C again to quit at once)\n");
          }, (signal) => compile({
            inputs: args.paths as string[], out: args.out!, workers: args.workers, icosphere: args.icosphere,
            projection: args.projection, inputWidth: args.inputs, seed: args.seed, ids: args.ids, format: args.format,
            normals: kernel.normals, normalize: kernel.normalize, onNonfinite: kernel.onInvalid,
            defaultColor: kernel.defaultColor, minOpacity: kernel.minOpacity, strict: args.strict, overwrite: args.overwrite,
            resume: args.resume, signal, shard: args.shard === undefined ? undefined : parseShard(args.shard, process.env),
            target: args.target, grid: args.grid, voxelValue: args.voxelValue, imageSize: args.imageSize, images: args.images, samples: args.samples,
            surfaceNormals: args.surfaceNormals, margin: args.margin, sigma: args.sigma, uniformShare: args.uniformShare,
            checkpointMs: process.env.HEADSNET_CHECKPOINT_MS ? Number(process.env.HEADSNET_CHECKPOINT_MS) : undefined,
            // For measuring the read-ahead (bench/corpus-scale.ts): files ahead (or auto), and reads at once.
            readAhead: !process.env.HEADSNET_READAHEAD || process.env.HEADSNET_READAHEAD === "auto" ? undefined : Number(process.env.HEADSNET_READAHEAD),
            readAheadReads: process.env.HEADSNET_READAHEAD_READS ? Number(process.env.HEADSNET_READAHEAD_READS) : undefined,
            // The same, for the page cache: auto, use or bypass (CompileOptions.pageCache).
            pageCache: (process.env.HEADSNET_PAGE_CACHE || undefined) as "auto" | "use" | "bypass" | undefined,
            onStart: (s) => {
              if (s.resumedFrom && !args.quiet && !args.json) {
                io.err(`headsnet: resuming the interrupted run: ${fmtInt(s.resumedFrom.files)} of ${plural(s.files, "file")} (${plural(s.resumedFrom.rows, "row")}) already done\n`);
              }
            },
            onProgress: bar ? (p) => bar.show(p.filesDone / p.filesTotal, compileProgressText(p)) : undefined,
            onWarning: args.quiet || args.json ? undefined : (file, w) => {
              bar?.clear();
              io.err(`headsnet: warning: ${file}: ${w}\n`);
            },
          }));
          bar?.clear();
          if (result.error) return { error: result.error };
          const s = result.summary!;
          // Quiet or JSON runs still say which files failed, on stderr.
          if (args.quiet || args.json) for (const f of s.failed) io.err(`headsnet: ${f.message}\n`);
          return { data: { ...s }, text: summaryText(s), failed: s.failed.length > 0 };
        });
        done("compile", flags, outcome);
      },
    )
    .command(
      "verify <dirs..>",
      "check a compiled dataset: sizes against the manifest, NaN/Inf, ids, index values and ranges",
      (y) => withCommonOptions(y
        .positional("dirs", { type: "string", array: true, demandOption: true, describe: "a compile output directory (merged or linked), or several shard directories read as one" }), "no report; the exit code says"),
      async (args) => {
        done("verify", args, await outcomeOf(async () => {
          const dirs = args.dirs as string[];
          dirs.forEach(mustExist);
          const { verify } = await import("./verify.js");
          const report = await verify(dirs.length === 1 ? dirs[0] : dirs);
          return { data: { ...report }, text: verifyText(report), failed: !report.ok };
        }));
      },
    )
    .command(
      "inspect <file>",
      "show a PLY file's header, counts, bounding box and what compile would do with it",
      (y) => withCommonOptions(y
        .positional("file", { type: "string", demandOption: true, describe: "a PLY file" })
        .option("icosphere", icosphereOption)
        .option("projection", projectionOption)
        .option("min-opacity", { type: "number", describe: "3D Gaussian splats: count the splats compile --min-opacity would leave out (0-1)" }), "no report; the exit code says"),
      async (args) => {
        done("inspect", args, await outcomeOf(async () => {
          mustExist(args.file as string);
          const { inspect } = await import("./inspect.js");
          const report = inspect(args.file as string, { projection: args.projection, icosphere: args.icosphere, minOpacity: args.minOpacity });
          if (report.error?.code === "E_USAGE") return { error: HeadsnetError.fromJSON(report.error) };
          // A file compile would fail is still described: the report goes out, and the exit code is 1.
          if (report.error && !args.json) io.err(`headsnet: ${report.error.message}\n`);
          return { data: { ...report }, text: inspectText(report), failed: Boolean(report.error) };
        }));
      },
    )
    .command(
      "synth",
      "write a built-in corpus of synthetic heads (Blender's PLY export layout)",
      (y) => withCommonOptions(y
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output directory" })
        .option("count", { alias: "n", type: "number", default: 10, describe: "number of heads" })
        .option("vertices", { type: "number", default: 94000, describe: "vertices per head" })
        .option("seed", { type: "number", default: 0, describe: "corpus seed; head i is the same for any count" })
        .option("first", { type: "number", default: 0, describe: "number of the first head written (a corpus in parts: --first 1000 -n 1000 writes head_01000 to head_01999)" })),
      async (args) => {
        const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
        done("synth", args, await outcomeOf(async () => {
          const { synthCorpus } = await import("./synth.js");
          const started = performance.now();
          const result = await synthCorpus({
            out: args.out, count: args.count, vertices: args.vertices, seed: args.seed, first: args.first,
            onProgress: bar ? (k, n) => bar.show(k / n, `${fmtInt(k)}/${plural(n, "head")}  ETA ${formatSeconds(((performance.now() - started) / 1000 / k) * (n - k))}`) : undefined,
          });
          bar?.clear();
          return {
            data: { dir: displayPath(result.dir), files: result.files.length, vertices: result.vertices, bytes: result.bytes },
            text: `wrote ${plural(result.files.length, "head")}, ${plural(result.vertices, "vertex", "vertices")}, ${formatCount(result.bytes)}B to ${displayPath(result.dir)}\n`,
          };
        }));
      },
    )
    .command(
      "demo",
      "synthesize a corpus, compile it, verify it and print a summary (what `npm start` runs)",
      (y) => withCommonOptions(y
        .option("dir", { type: "string", default: "demo", describe: "working directory for the corpus and the dataset (replaced on each run)" })
        .option("count", { alias: "n", type: "number", default: 24, describe: "number of heads" })
        .option("vertices", { type: "number", default: 94000, describe: "vertices per head" })
        .option("workers", workersOption(defaultWorkers(), "worker threads (default: available cores)"))),
      async (args) => {
        const say = (t: string) => { if (!args.quiet && !args.json) io.out(t); };
        done("demo", args, await outcomeOf(async () => {
          const corpus = join(args.dir, "corpus");
          const out = join(args.dir, "dataset");
          say(`1/3 synthesizing ${plural(args.count, "head")} of ${fmtInt(args.vertices)} vertices in ${corpus}\n`);
          const [{ synthCorpus }, { verify }] = await Promise.all([import("./synth.js"), import("./verify.js")]);
          await synthCorpus({ out: corpus, count: args.count, vertices: args.vertices, seed: 0 });
          say(`2/3 compiling into ${out}\n`);
          const bar = progressEnabled(args.quiet || args.json) ? new ProgressBar() : undefined;
          // The demo's own folder: each run replaces its dataset.
          const result = await compile({
            inputs: [corpus], out, workers: args.workers, overwrite: true,
            onProgress: bar ? (p) => bar.show(p.filesDone / p.filesTotal, compileProgressText(p)) : undefined,
          });
          bar?.clear();
          if (result.error) return { error: result.error };
          say(summaryText(result.summary!));
          say(`3/3 verifying ${out}\n`);
          const report = await verify(out);
          say(verifyText(report));
          return { data: { compile: result.summary, verify: report }, failed: !report.ok || result.summary!.failed.length > 0 };
        }));
      },
    )
    .command(
      "merge <shards..>",
      "join the shards of one run (compile --shard K/N) into the dataset a single run makes, byte for byte",
      (y) => withCommonOptions(y
        .positional("shards", { type: "string", array: true, demandOption: true, describe: "the shard directories, in any order" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output directory" })
        .option("link", { type: "boolean", default: false, describe: "write only a manifest that lists the shards' files in order (nothing copied; train and verify read it)" })
        .option("overwrite", { type: "boolean", default: false, describe: "replace a finished dataset in -o DIR (kept until the new one is complete)" })),
      async (args) => {
        done("merge", args, await outcomeOf(async () => {
          (args.shards as string[]).forEach(mustExist);
          const r = await merge({ shards: args.shards as string[], out: args.out, link: args.link, overwrite: args.overwrite });
          if (r.error) return { error: r.error };
          const s = r.summary!;
          return {
            data: { ...s },
            text: `${s.linked ? "linked" : "merged"} ${plural(s.shards, "shard")}: ${plural(s.rows, "row")}, ${plural(s.models, "model")}${s.failed ? `, ${fmtInt(s.failed)} failed` : ""} in ${displayPath(s.out)}${s.linked ? "" : ` (${formatCount(s.bytes)}B in ${formatSeconds(s.seconds)})`}\n`,
          };
        }));
      },
    )
    .command(
      "help [command]",
      "show the help of a command",
      (y) => y.positional("command", { type: "string", describe: "a command" }),
      async (args) => {
        const name = args.command as string | undefined;
        if (name !== undefined && !COMMANDS.includes(name)) {
          done("help", {}, { error: usageError(`no command ${JSON.stringify(name)}${suggestCommand(name)}; the commands: ${COMMANDS.join(", ")}`) });
          return;
        }
        exitCode = await main(name ? [name, "--help"] : ["--help"], io);
      },
    );
  registerTrainCommands(parser, io, (code) => { exitCode = code; });
  registerViewCommands(parser, io, (c) => { exitCode = c; });
  skipHelpCache(parser);

  try {
    // Help and version text come back here rather than going to the console, so that they go
    // through `io` like everything else.
    await parser.parseAsync(argv, {}, (_error, _args, output) => {
      if (output) io.out(output.endsWith("\n") ? output : `${output}\n`);
    });
  } catch (e) {
    if (e instanceof HeadsnetError) return finish(io, command ?? "", {}, { error: e });
    if (e instanceof Error && e.name === "YError") {
      io.err(`headsnet: ${withSuggestion(e.message, parser, argv[0])}\n${helpHint(command)}`);
      return EXIT_USAGE;
    }
    return unexpected(io, e);
  }
  return exitCode;
}

function suggestCommand(word: string): string {
  const near = didYouMean(word, COMMANDS);
  return near ? ` (did you mean ${near}?)` : "";
}

/**
 * yargs' usage messages, made to say what was wrong and what was meant: "Unknown argument:
 * worker (did you mean --workers?)", "unknown command compil (did you mean compile?)".
 */
function withSuggestion(message: string, parser: Argv, first: string | undefined): string {
  if (/^Did you mean /.test(message)) return `unknown command ${first}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (!unknown) return message;
  const options = (parser as unknown as { getOptions(): { key?: Record<string, unknown>; alias?: Record<string, string[]> } }).getOptions();
  const known = [...Object.keys(options.key ?? {}), ...Object.values(options.alias ?? {}).flat()].filter((k) => k.length > 1);
  const hints = unknown[1].split(", ").map((word) => {
    const near = didYouMean(word.replace(/^-+/, ""), known);
    return near ? `${word} (did you mean --${near}?)` : word;
  });
  return `Unknown argument${hints.length > 1 ? "s" : ""}: ${hints.join(", ")}`;
}

/** Anything that is not a HeadsnetError is a bug: one line, and the stack on request. */
export function unexpected(io: Io, e: unknown): number {
  const message = e instanceof Error ? e.message : String(e);
  if (process.env.HEADSNET_DEBUG) io.err(`${e instanceof Error && e.stack ? e.stack : message}\n`);
  io.err(`headsnet: unexpected error: ${message.split("\n")[0]} (this is a bug in headsnet; run with HEADSNET_DEBUG=1 to see where it happened)\n`);
  return EXIT_FAILURE;
}
