// Which files a compile takes, in which order, and each one's stable name.

import { statSync, readdirSync } from "node:fs";
import { resolve, relative, basename, join, sep } from "node:path";
import { errors } from "./errors.js";

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Path relative to its input root, '/'-separated: the model's name and the key of its id. */
  rel: string;
  /** Path as shown to the user: relative to the working directory, '/'-separated. */
  label: string;
  /** Size and modification time when listed (a resumed run checks its inputs are unchanged). */
  size: number;
  mtimeMs: number;
}

const toPosix = (p: string) => p.split(sep).join("/");

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const s = statSync(full);
        isDir = s.isDirectory();
        isFile = s.isFile();
      } catch {
        continue; // a dangling link is not an input
      }
    }
    if (isDir) walk(full, out);
    else if (isFile && /\.ply$/i.test(entry.name)) out.push(full);
  }
}

/**
 * Files named on the command line and .ply files under directories named there, sorted by
 * label (code point order, so the same on every machine), each once.
 */
export function discoverInputs(inputs: string[], cwd = process.cwd()): InputFile[] {
  const found = new Map<string, InputFile>();
  for (const input of inputs) {
    const root = resolve(cwd, input);
    let stats;
    try {
      stats = statSync(root);
    } catch {
      throw errors.inputMissing(input);
    }
    const files: { path: string; rel: string }[] = [];
    if (stats.isDirectory()) {
      const paths: string[] = [];
      walk(root, paths);
      for (const p of paths) files.push({ path: p, rel: toPosix(relative(root, p)) });
    } else {
      files.push({ path: root, rel: basename(root) });
    }
    for (const f of files) {
      if (found.has(f.path)) continue;
      let size = -1, mtimeMs = 0;
      try {
        const s = statSync(f.path);
        size = s.size;
        mtimeMs = s.mtimeMs;
      } catch {
        // Gone already: the worker reports it as unreadable.
      }
      found.set(f.path, { ...f, label: toPosix(relative(cwd, f.path)) || f.rel, size, mtimeMs });
    }
  }
  if (found.size === 0) throw errors.noInputs(inputs);
  return [...found.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
