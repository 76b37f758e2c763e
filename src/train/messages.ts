// Every message the trainer prints about bad input or bad usage: what happened, where, and what to
// do about it. Errors are HeadsnetErrors (src/errors.ts) so the CLI prints them the same way.

import { HeadsnetError } from "../errors.js";

export const trainErrors = {
  usage: (what: string) => new HeadsnetError("E_USAGE", what),
  noManifest: (dir: string) =>
    new HeadsnetError("E_MANIFEST", `${dir}: no manifest.json: not a finished headsnet dataset (run 'headsnet compile' into it, or pass the directory that holds manifest.json)`, { file: dir }),
  manifest: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),
  dataFile: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}; the data does not match its manifest (recompile, or run 'headsnet verify')`, { file: path }),
  read: (path: string, cause: string) =>
    new HeadsnetError("E_READ", `${path}: cannot read: ${cause}`, { file: path }),
  stream: (source: string, what: string, offset?: number) =>
    new HeadsnetError("E_READ", `${source}: bad row stream${offset !== undefined ? ` (byte ${offset})` : ""}: ${what}`, { file: source, offset }),
  model: (path: string, what: string) =>
    new HeadsnetError("E_READ", `${path}: ${what}`, { file: path }),
  output: (path: string, cause: string) =>
    new HeadsnetError("E_OUTPUT", `cannot write ${path}: ${cause}`, { file: path }),
};

/** Run a function that throws HeadsnetErrors for user errors; return them instead. */
export async function captureErrors<T>(fn: () => Promise<T>): Promise<{ error?: HeadsnetError; result?: T }> {
  try {
    return { result: await fn() };
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
}
