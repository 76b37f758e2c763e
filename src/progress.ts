// A one-line progress bar on stderr: only on a terminal, never in CI or with --quiet.

import type { CompileProgress } from "./compile/index.js";

export function progressEnabled(quiet: boolean): boolean {
  return !quiet && Boolean(process.stderr.isTTY) && !process.env.CI;
}

/** 94.0k, 5.64M, 1.23G: a count to read at a glance. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export class ProgressBar {
  private last = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(p: CompileProgress): void {
    const now = Date.now();
    if (now - this.last < 100 && p.filesDone < p.filesTotal) return;
    this.last = now;
    const width = 20;
    const filled = Math.round((p.filesDone / p.filesTotal) * width);
    const rate = p.rows / Math.max(p.seconds, 1e-9);
    const eta = p.filesDone ? (p.seconds / p.filesDone) * (p.filesTotal - p.filesDone) : Infinity;
    const failed = p.failed ? `  ${p.failed} failed` : "";
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.filesDone}/${p.filesTotal} files  ${formatCount(p.rows)} rows  ${formatCount(rate)} rows/s  ETA ${formatSeconds(eta)}${failed}`;
    this.stream.write(`\r${line.slice(0, Math.max(20, (this.stream.columns || 120) - 1))}\x1b[K`);
  }

  done(): void {
    this.stream.write("\n");
  }
}
