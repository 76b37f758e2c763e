// Reproducing the reference's data exactly, as the README says: `--icosphere blender` (the
// reference's table, built in) with the legacy projection gives its golden outputs bit for bit,
// through the API and the command line, and the result opens in the viewer.

import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../src/compile/index.js";
import { verify } from "../src/verify.js";
import { openDataset } from "../src/view/source.js";
import { BLENDER_SHA256, goldenDir, expectGoldenDataset } from "./reference.js";
import { expectSameBytes } from "./bytes.js";

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const TIMEOUT = 180_000;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-reproduce-${name}-`));
const OUTPUTS = ["train_x.dat", "train_y.dat"];

describe("--icosphere blender reproduces the reference's golden outputs", () => {
  let api: string;
  beforeAll(async () => {
    api = join(tmp("api"), "data");
    const result = await compile({ inputs: [goldenDir()], out: api, icosphere: "blender", projection: "legacy", workers: 2 });
    expect(result.error).toBeUndefined();
    expect(result.summary!.failed).toEqual([]);
  }, TIMEOUT);

  it("through the API: every model's index column bit for bit and its train_y byte for byte; the manifest names the table", async () => {
    expectGoldenDataset(api);
    const manifest = JSON.parse(readFileSync(join(api, "manifest.json"), "utf8"));
    expect(manifest.icosphere).toEqual({ vertices: 10242, sha256: BLENDER_SHA256, source: "blender" });
    expect(manifest.options.icosphere).toBe("blender");
    expect(manifest.options.projection).toBe("legacy");
    expect((await verify(api)).ok).toBe(true);
  }, TIMEOUT);

  it("through the API by its alias, reference: the same files", async () => {
    const out = join(tmp("alias"), "data");
    const result = await compile({ inputs: [goldenDir()], out, icosphere: "reference", workers: 1 });
    expect(result.error).toBeUndefined();
    expect(result.summary!.icosphere.source).toBe("blender");
    for (const name of [...OUTPUTS, "manifest.json"]) expectSameBytes(readFileSync(join(out, name)), readFileSync(join(api, name)), name);
  }, TIMEOUT);

  it("through the command line, as the README gives it: the same rows", () => {
    const out = join(tmp("cli"), "data");
    const r = spawnSync(process.execPath, [BIN, "compile", goldenDir(), "-o", out, "--icosphere", "blender", "--projection", "legacy", "--json"], {
      encoding: "utf8", env: { ...process.env, CI: "true" },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, files: 7, compiled: 7, rows: 165156, icosphere: { vertices: 10242, sha256: BLENDER_SHA256, source: "blender" } });
    expectGoldenDataset(out);
    for (const name of OUTPUTS) expectSameBytes(readFileSync(join(out, name)), readFileSync(join(api, name)), name);
  }, TIMEOUT);

  it("the viewer finds the dataset's icosphere by its name", () => {
    const dataset = openDataset(api);
    const icosphere = dataset.icosphere();
    expect(icosphere.sha256).toBe(BLENDER_SHA256);
    expect(icosphere.count).toBe(10242);
  });
});
