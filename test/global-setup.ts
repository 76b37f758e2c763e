// Before any test runs: rebuild whatever built artifact is older than its sources, so that a bare
// `npx vitest run` after an edit never tests old code. The tests run the TypeScript sources
// directly, but those load build/*.wasm, the CLI tests run the dist/ bundles and the compile
// pool's workers load dist/src/worker.bundle.cjs. Each step runs its npm script, as `npm run
// build` would; an output is stale when it is missing or older than the newest of its sources.
//
// Then one temporary folder for the whole run, as TMPDIR of the test processes and of every
// program they start, removed at the end: the tests make hundreds of temporary folders (the
// package test alone a 340 MB install), which would otherwise pile up in the system's /tmp.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Files under `dir` (relative to the root) whose names pass `keep`, as root-relative paths. */
function files(dir: string, keep: (name: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(join(ROOT, d))) return;
    for (const entry of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (keep(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

const mtime = (path: string) => statSync(join(ROOT, path)).mtimeMs;

interface Step {
  script: string;
  sources: () => string[];
  outputs: () => string[];
}

const isBundle = (name: string) => /^(cli|worker)\.bundle\b/.test(name);
const tsSources = () => [...files("src", (n) => n.endsWith(".ts")), ...files("bench", (n) => n.endsWith(".ts"))];

const STEPS: Step[] = [
  {
    script: "build:wasm",
    sources: () => [...files("assembly"), "asconfig.json"],
    // Every target's output, as asconfig.json names them.
    outputs: () => Object.values(JSON.parse(readFileSync(join(ROOT, "asconfig.json"), "utf8")).targets as Record<string, { outFile: string }>).map((t) => t.outFile),
  },
  {
    script: "build:ts",
    sources: () => [...tsSources(), "tsconfig.json"],
    outputs: () => tsSources().filter((p) => !p.endsWith(".d.ts")).map((p) => join("dist", p.replace(/\.ts$/, ".js"))),
  },
  {
    script: "build:bundle",
    sources: () => [...files("dist/src", (n) => n.endsWith(".js") && !isBundle(n)), "rolldown.config.mjs"],
    outputs: () => ["dist/src/cli.bundle.js", "dist/src/worker.bundle.cjs"],
  },
];

/** Why `step`'s outputs are stale, or undefined when they are up to date. */
function staleness(step: Step): string | undefined {
  const outputs = step.outputs();
  const missing = outputs.find((p) => !existsSync(join(ROOT, p)));
  if (missing) return `${missing} is missing`;
  let oldest = outputs[0];
  for (const p of outputs) if (mtime(p) < mtime(oldest)) oldest = p;
  let newest: string | undefined;
  for (const p of step.sources()) if (newest === undefined || mtime(p) > mtime(newest)) newest = p;
  if (newest !== undefined && mtime(newest) > mtime(oldest)) return `${oldest} is older than ${newest}`;
  return undefined;
}

export default function setup(): () => void {
  for (const step of STEPS) {
    const why = staleness(step);
    if (!why) continue;
    console.log(`test/global-setup.ts: ${why}: npm run ${step.script}`);
    try {
      execFileSync("npm", ["run", "--silent", step.script], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    } catch (e) {
      throw new Error(`npm run ${step.script} failed (${(e as Error).message}); the tests would run old code: fix the build, then test again`);
    }
    const still = staleness(step);
    if (still) throw new Error(`npm run ${step.script} ran, but ${still} (in ${relative(process.cwd(), ROOT) || "."})`);
  }
  const runTmp = mkdtempSync(join(tmpdir(), "headsnet-tests-"));
  process.env.TMPDIR = runTmp;
  return () => rmSync(runTmp, { recursive: true, force: true });
}
