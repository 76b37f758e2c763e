// The icosphere option: a level, a table file, or the built-in reference table (`blender`, alias
// `reference`), which is checked against its sha256 whenever it is loaded.

import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync as realReadFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinIcosphereName, generateIcosphere, loadIcosphere } from "../src/icosphere.js";
import { HeadsnetError } from "../src/errors.js";
import { BLENDER_SHA256, BLENDER_TABLE, BLENDER_VERTICES } from "./reference.js";
import { bytesOf, expectSameBytes } from "./bytes.js";

describe("the built-in reference table", () => {
  it("blender is the reference's 10,242-vertex table, by its sha256, vertex 0 at (0, 0, -1)", () => {
    const ico = loadIcosphere("blender");
    expect(ico.count).toBe(BLENDER_VERTICES);
    expect(ico.sha256).toBe(BLENDER_SHA256);
    expect(ico.source).toBe("blender");
    expect(Array.from(ico.vertices.subarray(0, 3))).toEqual([0, 0, -1]);
    for (let i = 0; i < ico.count; i++) {
      expect(Math.abs(Math.hypot(ico.vertices[3 * i], ico.vertices[3 * i + 1], ico.vertices[3 * i + 2]) - 1)).toBeLessThan(1e-6);
    }
    // The same table as the file shipped in assets/, which loads as any table file does.
    const file = loadIcosphere(BLENDER_TABLE);
    expect(file.source).toBe(BLENDER_TABLE);
    expectSameBytes(file.vertices, ico.vertices, "the table file's vertices");
    // Not a generated icosphere of the same size: Blender orders its vertices its own way.
    expect(generateIcosphere(5).sha256).not.toBe(BLENDER_SHA256);
  });

  it("reference is its alias; other names are file paths", () => {
    const ico = loadIcosphere("reference");
    expect(ico.sha256).toBe(BLENDER_SHA256);
    expect(ico.source).toBe("blender");
    expect(builtinIcosphereName("blender")).toBe("blender");
    expect(builtinIcosphereName("reference")).toBe("blender");
    for (const spec of ["Blender", "./blender", "blender.f32", "constructor", "toString", "__proto__", "", 5, undefined]) {
      expect(builtinIcosphereName(spec), String(spec)).toBeUndefined();
    }
    expect(() => loadIcosphere("constructor")).toThrow(/icosphere: cannot read the table constructor: .*pass a level \(0-9\), "blender"/);
    // A file that happens to be called blender is read by its path.
    const dir = mkdtempSync(join(tmpdir(), "headsnet-ico-"));
    writeFileSync(join(dir, "blender"), bytesOf(generateIcosphere(1).vertices));
    const file = loadIcosphere(join(dir, "blender"));
    expect(file.count).toBe(42);
    expect(file.source).toBe(join(dir, "blender"));
  });
});

describe("a damaged or missing built-in table", () => {
  afterEach(() => {
    vi.doUnmock("node:fs");
    vi.resetModules();
  });

  /** icosphere.js loaded afresh, with `node:fs` reading the built-in table's file through `read`. */
  async function withTableRead(read: (bytes: Buffer) => Buffer): Promise<typeof import("../src/icosphere.js")> {
    vi.resetModules();
    vi.doMock("node:fs", async (importOriginal) => {
      const fs = await importOriginal<typeof import("node:fs")>();
      const readFileSync = ((path: string, ...rest: unknown[]) => {
        const bytes = (fs.readFileSync as (...a: unknown[]) => Buffer)(path, ...rest);
        return String(path).endsWith("icosphere_blender_10242.f32") ? read(bytes) : bytes;
      }) as typeof fs.readFileSync;
      return { ...fs, default: { ...fs, readFileSync }, readFileSync };
    });
    return import("../src/icosphere.js");
  }

  it("one bit changed: a clear error with both checksums, never the wrong table", async () => {
    const { loadIcosphere: load } = await withTableRead((bytes) => { const b = Buffer.from(bytes); b[1000] ^= 1; return b; });
    let error: unknown;
    try { load("blender"); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(Error);
    expect((error as HeadsnetError).code).toBe("E_ICOSPHERE");
    expect((error as Error).message).toMatch(new RegExp(`^icosphere: the built-in table "blender" at .*assets/icosphere_blender_10242\\.f32 is damaged: its sha256 is [0-9a-f]{64}, expected ${BLENDER_SHA256} .*; reinstall headsnet$`));
    // A table file with the same damage is still a table the user chose: loaded as it is.
    expect(load(BLENDER_TABLE).sha256).not.toBe(BLENDER_SHA256);
  });

  it("cut short or missing: a clear error", async () => {
    const short = await withTableRead((bytes) => bytes.subarray(0, 120_000));
    expect(() => short.loadIcosphere("reference")).toThrow(/built-in table "blender" .* is damaged: .*this file has 120000\)/);
    const missing = await withTableRead(() => { throw Object.assign(new Error("ENOENT: no such file or directory"), { code: "ENOENT" }); });
    expect(() => missing.loadIcosphere("blender")).toThrow(/built-in table "blender" cannot be read from .*icosphere_blender_10242\.f32: ENOENT.*reinstall headsnet/);
  });

  it("the real file is intact", () => {
    expect(() => loadIcosphere("blender")).not.toThrow();
    expect(realReadFileSync(BLENDER_TABLE).byteLength).toBe(BLENDER_VERTICES * 12);
  });
});
