// Dropping a corpus from the page cache (bench/c/io evict: posix_fadvise DONTNEED on each file,
// which needs no root), so that the next contender reads it from the disk.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../src/package.js";

export const BENCH_C = join(PACKAGE_ROOT, "bench", "c");
export const IO_TOOL = join(BENCH_C, "build", "io");

/** Build bench/c's tools (make) unless `tool` is there already. */
export function ensureBuilt(tool: string): void {
  if (existsSync(tool)) return;
  const make = spawnSync("make", ["-s", "-C", BENCH_C], { encoding: "utf8" });
  if (make.status !== 0) throw new Error(`building bench/c failed: ${make.stderr}`);
}

/** Drop the files' pages from the page cache. */
export function evict(files: string[]): void {
  ensureBuilt(IO_TOOL);
  for (let i = 0; i < files.length; i += 500) {
    const r = spawnSync(IO_TOOL, ["evict", ...files.slice(i, i + 500)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`io evict failed: ${r.stderr}`);
  }
}
