// A one-line progress bar on stderr: only on a terminal, never in CI, with --quiet or --json.

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

/** 4.2s, 35s, 3m05s, 2h07m; "?" when unknown. */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** What compile's bar says after the bar itself. */
export function compileProgressText(p: CompileProgress): string {
  const rate = p.rows / Math.max(p.seconds, 1e-9);
  const eta = p.filesDone ? (p.seconds / p.filesDone) * (p.filesTotal - p.filesDone) : undefined;
  const failed = p.failed ? `  ${p.failed} failed` : "";
  return `${p.filesDone}/${p.filesTotal} files  ${formatCount(p.rows)} rows  ${formatCount(rate)} rows/s  ETA ${formatSeconds(eta)}${failed}`;
}

export class ProgressBar {
  private last = 0;
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Redraw the bar at `fraction` (0-1) with `text` after it; at most ten times a second. */
  show(fraction: number, text: string): void {
    const now = Date.now();
    if (now - this.last < 100 && fraction < 1) return;
    this.last = now;
    const width = 20;
    const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}`;
    this.stream.write(`\r${line.slice(0, Math.max(20, (this.stream.columns || 120) - 1))}\x1b[K`);
    this.shown = true;
  }

  /** Erase the bar, so that what is printed next starts a clean line. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
