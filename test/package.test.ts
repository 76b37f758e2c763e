// The package as users get it: `npm pack`, installed into an empty project, imported by name.
// `import { compile } from "headsnet"` must work, and so must the `headsnet` command it installs.

import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../src/package.js";

const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the packed package", () => {
  it("installs from its tarball, and `import { compile } from \"headsnet\"` compiles a corpus", () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-pack-"));
    // The build is already in place (the test setup made it): pack what is there.
    npm(["pack", "--ignore-scripts", "--pack-destination", dir, PACKAGE_ROOT], dir);
    const tarball = readdirSync(dir).find((n) => n.endsWith(".tgz"))!;
    expect(tarball).toMatch(/^headsnet-.*\.tgz$/);
    const project = join(dir, "project");
    execFileSync("mkdir", [project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, tarball)], project);
    writeFileSync(join(project, "use.mjs"), `
      import { compile, synthCorpus, verify, readDataset, VERSION } from "headsnet";
      await synthCorpus({ out: "heads", count: 2, vertices: 1000, seed: 1 });
      const { error, summary } = await compile({ inputs: ["heads"], out: "data", workers: 1 });
      if (error) throw error;
      const report = await verify("data");
      console.log(JSON.stringify({ rows: summary.rows, ok: report.ok, version: VERSION, models: readDataset("data").manifest.models.length }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ["use.mjs"], { cwd: project, encoding: "utf8" }));
    expect(out).toEqual({ rows: 2000, ok: true, version: expect.any(String), models: 2 });
    const help = execFileSync(join(project, "node_modules", ".bin", "headsnet"), ["--version"], { cwd: project, encoding: "utf8" });
    expect(help.trim()).toBe(out.version);
    // The reference's icosphere ships in the package (assets/) and passes its sha256 check.
    const inspect = JSON.parse(execFileSync(join(project, "node_modules", ".bin", "headsnet"), ["inspect", "heads/head_00000.ply", "--icosphere", "blender", "--json"], { cwd: project, encoding: "utf8" }));
    expect(inspect.compile.icosphereVertices).toBe(10242);
  }, 300_000);
});
