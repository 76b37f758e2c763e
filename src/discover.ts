// Which files a compile takes, in which order, and each one's stable name.

import { statSync, readdirSync } from "node:fs";
import { resolve, relative, dirname, isAbsolute, join, sep } from "node:path";
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

function walk(dir: string, out: string[], pattern: RegExp): void {
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
    if (isDir) walk(full, out, pattern);
    else if (isFile && pattern.test(entry.name)) out.push(full);
  }
}

/**
 * Files named on the command line and .ply files under directories named there, sorted by
 * label (code point order, so the same on every machine), each once. A file's `rel`, the name of
 * its model, is its path relative to its input directory when there is one input; with several
 * inputs, relative to the deepest folder that holds them all, so that `compile a b` names
 * a/head.ply and b/head.ply apart (and `compile heads/*.ply` names them as `compile heads` does).
 */
export function discoverInputs(inputs: string[], cwd = process.cwd(), pattern = /\.ply$/i): InputFile[] {
  const found = new Map<string, { path: string; size: number; mtimeMs: number }>();
  const roots: string[] = [];
  for (const input of inputs) {
    const root = resolve(cwd, input);
    let stats;
    try {
      stats = statSync(root);
    } catch {
      throw errors.inputMissing(input);
    }
    const paths: string[] = [];
    if (stats.isDirectory()) {
      roots.push(root);
      walk(root, paths, pattern);
    } else {
      roots.push(dirname(root));
      paths.push(root);
    }
    for (const p of paths) {
      if (found.has(p)) continue;
      let size = -1, mtimeMs = 0;
      try {
        const s = statSync(p);
        size = s.size;
        mtimeMs = s.mtimeMs;
      } catch {
        // Gone already: the worker reports it as unreadable.
      }
      found.set(p, { path: p, size, mtimeMs });
    }
  }
  if (found.size === 0) throw errors.noInputs(inputs);
  const base = commonAncestor(roots);
  return [...found.values()]
    .map((f) => ({ ...f, rel: toPosix(relative(base, f.path)), label: labelOf(f.path, cwd) }))
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** A file as the user knows it: relative to the working directory when under it, else absolute. */
function labelOf(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return toPosix(rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path);
}

/** The deepest directory that holds all of `dirs` (absolute paths). */
function commonAncestor(dirs: string[]): string {
  let base = dirs[0];
  for (const d of dirs.slice(1)) {
    while (d !== base && !d.startsWith(base.endsWith(sep) ? base : base + sep)) base = dirname(base);
  }
  return base;
}
