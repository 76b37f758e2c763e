// Runs a child process, timing it from spawn to exit and recording its peak resident memory.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

export interface ProcResult {
  /** Wall time from spawn to exit, in seconds (process startup included). */
  seconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size in bytes, when it could be measured. */
  peakRss?: number;
}

export type MemoryProbe = "time -v" | "VmHWM" | "none";

const TIME = "/usr/bin/time";
const scratch = mkdtempSync(join(tmpdir(), "headsnet-bench-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/** How peak memory is measured here: GNU time's report, else polling /proc/PID/status. */
export const memoryProbe: MemoryProbe = (() => {
  if (existsSync(TIME)) {
    const out = join(scratch, "probe");
    const r = spawnSync(TIME, ["-v", "-o", out, "true"], { stdio: "ignore" });
    if (r.status === 0 && existsSync(out) && /Maximum resident set size/.test(readFileSync(out, "utf8"))) return "time -v";
  }
  return existsSync("/proc/self/status") ? "VmHWM" : "none";
})();

let serial = 0;

// Children run in their own process group (so that a timeout can stop the child and whatever it
// started); the groups still running are stopped if the benchmark itself is stopped.
const running = new Set<number>();
const stopAll = () => {
  for (const pid of running) {
    try { process.kill(-pid, "SIGKILL"); } catch { /* already gone */ }
  }
};
process.on("exit", stopAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    stopAll();
    process.exit(130);
  });
}

/**
 * Run `cmd args`, resolve when it exits (never rejects on a non-zero status: the caller checks).
 * After `timeoutSeconds` (default 600) the child's process group is killed and the result says so.
 */
export function run(cmd: string, args: string[], options: { cwd?: string; timeoutSeconds?: number; env?: Record<string, string> } = {}): Promise<ProcResult> {
  const report = join(scratch, `time-${++serial}.txt`);
  const [file, argv] = memoryProbe === "time -v" ? [TIME, ["-v", "-o", report, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const started = performance.now();
    const child = spawn(file, argv, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true, env: options.env ? { ...process.env, ...options.env } : undefined });
    const pid = child.pid!;
    running.add(pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ }
    }, (options.timeoutSeconds ?? 600) * 1000);
    let hwm = 0;
    let poll: NodeJS.Timeout | undefined;
    if (memoryProbe === "VmHWM") {
      const read = () => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
        } catch { /* gone */ }
      };
      poll = setInterval(read, 5);
    }
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => stderr.push(d));
    child.on("error", reject);
    let exited: { code: number | null; signal: NodeJS.Signals | null; seconds: number } | undefined;
    child.on("exit", (code, signal) => {
      exited = { code, signal, seconds: (performance.now() - started) / 1000 };
      if (poll) clearInterval(poll);
      clearTimeout(timer);
      running.delete(pid);
    });
    child.on("close", () => {
      const e = exited!;
      let peakRss: number | undefined = hwm || undefined;
      let code = e.code;
      if (memoryProbe === "time -v") {
        const text = existsSync(report) ? readFileSync(report, "utf8") : "";
        rmSync(report, { force: true });
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
        if (m) peakRss = Number(m[1]) * 1024;
        // GNU time exits with the child's status; a child killed by a signal shows up in its report.
        const sig = /Command terminated by signal (\d+)/.exec(text);
        if (sig) code = 128 + Number(sig[1]);
      }
      resolve({
        seconds: e.seconds, code, signal: e.signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8") + (timedOut ? `\n(killed after ${options.timeoutSeconds ?? 600} s without finishing)` : ""),
        peakRss,
      });
    });
  });
}

/** First line of `cmd --version`, or undefined. */
export function versionLine(cmd: string, args = ["--version"]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : undefined;
}
