// What every command shares, so that the command line behaves one way: the exit codes, the
// `--json` envelope, how errors and results are printed, the options every command takes, and
// how numbers, counts and paths are written.

import { existsSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import type { Argv } from "yargs";
import { cliMessage, errors, HeadsnetError, type ErrorCode } from "./errors.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT_OK = 0;
/** The work failed: bad files, a failed run, a dataset that does not verify. */
export const EXIT_FAILURE = 1;
/** Usage: an unknown option, a bad value, a path named on the command line that does not exist. */
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

const USAGE_CODES: ErrorCode[] = ["E_USAGE", "E_INPUT_MISSING", "E_EXISTS"];

export function exitCodeOf(error: HeadsnetError): number {
  if (error.code === "E_INTERRUPTED") return EXIT_INTERRUPTED;
  return USAGE_CODES.includes(error.code) ? EXIT_USAGE : EXIT_FAILURE;
}

/** What a command did, for printing: its data (the --json body), its text, or its error. */
export interface Outcome {
  error?: HeadsnetError;
  /** Fields of the --json envelope beside `ok` (and `error`). */
  data?: Record<string, unknown>;
  /** What a person reads on stdout (not with --quiet or --json). */
  text?: string;
  /** The work ran but did not fully succeed (e.g. some files failed): exit 1, ok false. */
  failed?: boolean;
}

/** The --json envelope's error. */
export function errorJson(e: HeadsnetError): { code: ErrorCode; message: string; file?: string } {
  return { code: e.code, message: e.cliMessage, ...(e.file !== undefined ? { file: e.file } : {}) };
}

/**
 * Print a command's outcome the one way every command does, and return its exit code. With
 * --json, stdout holds exactly one JSON object: {"ok": …, "error"?: {code, message, file?}, …}.
 * Errors go to stderr as one line; usage errors point at the command's help.
 */
export function finish(io: Io, command: string, flags: { json?: boolean; quiet?: boolean }, outcome: Outcome): number {
  const { error } = outcome;
  if (flags.json) io.out(JSON.stringify({ ok: !error && !outcome.failed, ...(error ? { error: errorJson(error) } : {}), ...outcome.data }) + "\n");
  else if (!flags.quiet && outcome.text && !error) io.out(outcome.text);
  if (error) {
    const code = exitCodeOf(error);
    io.err(`headsnet: ${error.cliMessage}\n${code === EXIT_USAGE ? helpHint(command) : ""}`);
    return code;
  }
  return outcome.failed ? EXIT_FAILURE : EXIT_OK;
}

export function helpHint(command: string | undefined): string {
  return `Run 'headsnet${command ? ` ${command}` : ""} --help' for usage.\n`;
}

/** Run a command body: HeadsnetErrors it throws become its outcome. */
export async function outcomeOf(body: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
}

/** A path named on the command line must exist: the same error in every command. */
export function mustExist(path: string): void {
  if (!existsSync(path)) throw errors.notFound(path);
}

/** Ctrl-C (or SIGTERM) while `run` runs: the first asks it to stop (abort), a second quits at once. */
export async function withInterrupt<T>(onStop: () => void, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(EXIT_INTERRUPTED);
    onStop();
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await run(stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** --default-color R,G,B as numbers, or a usage error (exit 2) that shows what was given. */
export function parseColor(text: string): [number, number, number] {
  const color = text.split(",").map((c) => (c.trim() === "" ? NaN : Number(c)));
  if (!(color.length === 3 && color.every((c) => c >= 0 && c <= 1))) throw errors.defaultColor(text);
  return color as [number, number, number];
}

/** -q/--quiet and --json: every command takes both. */
export function withCommonOptions<T>(y: Argv<T>, quiet = "no progress and no summary") {
  return y
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: quiet })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object on stdout: {\"ok\": …, \"error\"?: {code, message, file?}, …}" });
}

/** -j/--workers: threads doing the work, in every command that uses several. */
export function workersOption(defaultValue: number, describe: string) {
  return { alias: ["j", "threads"], type: "number", default: defaultValue, describe } as const;
}

/** 94,000: a count as people write it. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "1 model", "2 models", "1 non-finite vertex". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

/** A path as the user would type it: relative when it lies under the working directory. */
export function displayPath(path: string, cwd = process.cwd()): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : rel === "" ? "." : path;
}

/** The known name closest to `word`, when it is close enough to be what was meant. */
export function didYouMean(word: string, known: string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

export { cliMessage };
