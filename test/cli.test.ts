// The command line as a user runs it: bin/headsnet.js in a child process.

import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../src/package.js";
import { BLENDER_TABLE, BLENDER_SHA256, goldenDir, expectGoldenDataset } from "./reference.js";

const GOLDEN_DIR = goldenDir();
const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-cli-${name}-`));
/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;

function headsnet(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("headsnet CLI", () => {
  it("an unknown option is a usage error (exit 2) that names it", () => {
    const r = headsnet("compile", GOLDEN_DIR, "-o", tmp("u"), "--bogus");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
    expect(r.stderr).toMatch(/Run 'headsnet compile --help' for usage/);
  });

  it("a bad option value and a missing command are usage errors", () => {
    expect(headsnet("compile", GOLDEN_DIR, "-o", tmp("p"), "--projection", "sideways").code).toBe(2);
    expect(headsnet("compile", GOLDEN_DIR, "-o", tmp("p"), "--inputs", "3").code).toBe(2);
    expect(headsnet("compile", GOLDEN_DIR).stderr).toMatch(/Missing required argument: out/);
    const none = headsnet();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name a command/);
  });

  it("a missing input is a usage error (exit 2) and writes nothing", () => {
    const out = join(tmp("m"), "out");
    const r = headsnet("compile", "/no/such/heads", "-o", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("headsnet: /no/such/heads: no such file or directory (pass existing .ply files or directories)\nRun 'headsnet compile --help' for usage.\n");
  });

  it("compile --json prints a machine-readable summary; verify accepts the result", () => {
    const out = tmp("json");
    const r = headsnet("compile", GOLDEN_DIR, "-o", out, "--icosphere", BLENDER_TABLE, "-j", "2", "--json");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ ok: true, files: 7, compiled: 7, rows: 165156, workers: 2, failed: [] });
    expect(summary.icosphere).toEqual({ vertices: 10242, sha256: BLENDER_SHA256, source: BLENDER_TABLE });
    expect(r.stderr).toBe("");
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "train_x.dat", "train_y.dat"]);
    // The table as a file gives the reference's rows, as the built-in one does (test/reproduce.test.ts).
    expectGoldenDataset(out);
    const v = headsnet("verify", out);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ok: .*165,156 rows, 7 models/);
    const bad = headsnet("verify", tmp("nothing"));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/problem: .*: no manifest\.json: not a finished headsnet dataset/);
  }, TIMEOUT);

  it("inspect shows the header, counts, bounds and what compile would do", () => {
    const r = headsnet("inspect", join(GOLDEN_DIR, "head_00000_be.ply"), "--icosphere", BLENDER_TABLE);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/format binary_big_endian 1\.0/);
    expect(r.stdout).toMatch(/element vertex 2,304/);
    expect(r.stdout).toMatch(/property float nx/);
    expect(r.stdout).toMatch(/2,304 vertices; normals: yes; colours: yes/);
    expect(r.stdout).toMatch(/bounding box \[/);
    expect(r.stdout).toMatch(/compile \(--projection legacy\): 2,304 rows, [\d,]+ of 10,242 icosphere vertices used/);
    const json = JSON.parse(headsnet("inspect", join(GOLDEN_DIR, "near_ties.ply"), "--json").stdout);
    expect(json.vertices).toBe(60000);
    expect(json.hasColors).toBe(true);
    const bad = headsnet("inspect", BLENDER_TABLE);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/error: .*icosphere_blender_10242\.f32: not a PLY file/);
    expect(bad.stderr).toMatch(/^headsnet: .*icosphere_blender_10242\.f32: not a PLY file/);
  }, TIMEOUT);

  it("synth writes a corpus that compiles", () => {
    const dir = tmp("synth");
    const r = headsnet("synth", "-o", dir, "--count", "2", "--vertices", "600", "--seed", "4");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote 2 heads, 1,200 vertices, /);
    const quiet = headsnet("synth", "-o", tmp("synth-quiet"), "--count", "1", "--vertices", "600", "--quiet");
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe("");
    expect(readdirSync(dir).sort()).toEqual(["head_00000.ply", "head_00001.ply"]);
    const c = headsnet("compile", dir, "-o", join(dir, "out"), "--quiet");
    expect(c.code).toBe(0);
    expect(c.stdout).toBe("");
  }, TIMEOUT);

  it("lists no directory but its inputs, its output and its own package's, wherever it is run from", () => {
    // The bundled yargs once looked for a package.json from the current directory up to /, listing
    // each directory on the way at every start: slow from a folder of many files, and none of its business.
    const root = tmp("cwd");
    const corpus = join(root, "corpus"), cwd = join(root, "a", "b");
    mkdirSync(cwd, { recursive: true });
    expect(headsnet("synth", "-o", corpus, "--count", "2", "--vertices", "600", "--quiet").code).toBe(0);
    const hook = fileURLToPath(new URL("./fixtures/list-dirs-hook.mjs", import.meta.url));
    const listedBy = (...args: string[]) => {
      const log = join(root, "dirs.json");
      const r = spawnSync(process.execPath, ["--import", hook, BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, HEADSNET_TEST_DIRS_LOG: log } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(readFileSync(log, "utf8")) as string[];
    };
    const out = join(root, "out");
    const within = (dir: string, top: string) => dir === top || dir.startsWith(top + "/");
    const own = (dir: string) => within(dir, corpus) || within(dir, out) || (dir + "/").startsWith(PACKAGE_ROOT);
    expect(listedBy("--version").filter((d) => !own(d))).toEqual([]);
    const compiled = listedBy("compile", "../../corpus", "-o", out, "--quiet", "-j1");
    expect(compiled).toContain(corpus); // the hook sees the listing of the inputs
    expect(compiled.filter((d) => !own(d))).toEqual([]);
  }, TIMEOUT);

  it("help text is laid out to 100 columns, text with non-ASCII characters (measured lazily, see rolldown.config.mjs) included", () => {
    const r = headsnet("compile", "--help");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(Math.max(...lines.map((l) => [...l].length))).toBe(100);
    // The --json option's second line holds "…": its type and default are right-aligned like every other's.
    const ellipsis = lines.filter((l) => l.includes("…}") && l.endsWith("[boolean] [default: false]"));
    expect(ellipsis).toHaveLength(1);
    expect([...ellipsis[0]].length).toBe(100);
  }, TIMEOUT);
});
