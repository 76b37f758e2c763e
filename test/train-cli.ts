// Runs the train/sample/eval/export commands in this process, as the CLI registers them, and
// captures what they print and the exit code they set (usage errors: 2, with yargs' message).

import yargs from "yargs";
import { registerTrainCommands } from "../src/train/cli.js";

export async function runTrainCommand(...argv: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = "", err = "", code = 0;
  const io = { out: (t: string) => { out += t; }, err: (t: string) => { err += t; } };
  const y = registerTrainCommands(yargs(argv).strict().exitProcess(false).fail((msg, e) => { throw e ?? new Error(msg); }), io, (c) => { code = c; });
  try {
    await y.parseAsync();
  } catch (e) {
    err += (e as Error).message;
    code = 2;
  }
  return { out, err, code };
}
