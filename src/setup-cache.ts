// The icosphere and its cube map, cached on disk. Building them costs ~150 ms of cold JIT at the
// start of every run; reading them back costs ~1 ms. The key covers the icosphere (its level, or
// the table's sha256) and the code that builds them, so a change to either never reuses a stale
// map; a checksum over the file catches damage. Anything wrong means a rebuild, never an error.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { loadIcosphere, type Icosphere } from "./icosphere.js";
import { buildSpatialHash, kernelCells, type KernelCells, type SpatialHash } from "./spatial-hash.js";
import { PACKAGE_ROOT } from "./package.js";

const MAGIC = "headsnet-setup-2";

let defaultDir: string | false = join(homedir(), ".cache", "headsnet");

/** Where cached maps go unless a caller says otherwise (the command line sets it from the environment). */
export function cacheDir(): string | false {
  return defaultDir;
}

/** Set where cached maps go by default; false: no cache. */
export function setCacheDir(dir: string | false): void {
  defaultDir = dir;
}

let codeDigest: string | undefined;

/** A digest of the modules that build the icosphere and the cube map, as they are on disk. */
function builderDigest(): string {
  if (!codeDigest) {
    const hash = createHash("sha256");
    // The sources under the tests; the built modules otherwise (the CLI's bundle holds the same code).
    const dir = import.meta.url.endsWith(".ts") ? join(PACKAGE_ROOT, "src") : join(PACKAGE_ROOT, "dist", "src");
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    for (const module of ["icosphere", "spatial-hash", "abi"]) hash.update(readFileSync(join(dir, module + ext)));
    codeDigest = hash.digest("hex");
  }
  return codeDigest;
}

export interface Setup {
  icosphere: Icosphere;
  hash: SpatialHash;
  /** The cube map as the kernel reads it. */
  cells: KernelCells;
}

/**
 * The icosphere for `spec` (as loadIcosphere takes it) and its cube map, from the cache when it
 * holds them, else built (and cached, if the cache directory can be written).
 */
export function loadSetup(spec: number | string | undefined, dir: string | false = cacheDir()): Setup {
  const generated = spec === undefined || spec === "" || typeof spec === "number" || /^\d+$/.test(spec);
  // A table (a file, or a built-in one such as "blender", checked against its sha256 as it loads)
  // is read anyway and known by its contents; a generated icosphere is known by its level.
  const table = generated ? undefined : loadIcosphere(spec);
  const name = generated ? `level-${spec === undefined || spec === "" ? 5 : Number(spec)}` : table!.sha256;
  const key = createHash("sha256").update(`${MAGIC}\0${builderDigest()}\0${name}`).digest("hex");
  const file = dir ? join(dir, `setup-${key}.bin`) : undefined;
  const cached = file ? read(file, key) : undefined;
  if (cached && (!table || cached.icosphere.sha256 === table.sha256)) {
    return { ...cached, icosphere: { ...cached.icosphere, source: table ? table.source : cached.icosphere.source } };
  }
  const icosphere = table ?? loadIcosphere(spec);
  const hash = buildSpatialHash(icosphere.vertices);
  const setup = { icosphere, hash, cells: kernelCells(hash, icosphere.count) };
  if (file) write(file, key, setup);
  return setup;
}

// File: JSON header line (key, sizes, icosphere facts, sha256 of the body), then the body:
// vertices (float32), cell starts (u32), candidates (u16 or u32), then the kernel's cell records
// and candidate groups (u16, or u32 when wide).
function write(file: string, key: string, { icosphere, hash, cells }: Setup): void {
  try {
    const parts = [icosphere.vertices, hash.cellStart, hash.candidates, cells.cells, cells.candidates].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    const body = Buffer.concat(parts);
    const header = JSON.stringify({
      key, count: icosphere.count, sha256: icosphere.sha256, source: icosphere.source, grid: hash.grid,
      sizes: parts.map((p) => p.byteLength), wide: hash.candidates instanceof Uint32Array, kernelWide: cells.wide,
      body: createHash("sha256").update(body).digest("hex"),
    });
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.concat([Buffer.from(header + "\n"), body]));
    renameSync(temp, file);
  } catch {
    // No cache this time: the next run builds again.
  }
}

function read(file: string, key: string): Setup | undefined {
  try {
    const bytes = readFileSync(file);
    const newline = bytes.indexOf(10);
    const header = JSON.parse(bytes.subarray(0, newline).toString());
    const body = bytes.subarray(newline + 1);
    if (header.key !== key || createHash("sha256").update(body).digest("hex") !== header.body) return undefined;
    const sizes = header.sizes as number[];
    if (sizes.length !== 5 || sizes.reduce((a, b) => a + b, 0) !== body.byteLength) return undefined;
    let at = 0;
    const [v, s, c, kc, kg] = sizes.map((n) => new Uint8Array(body.subarray(at, (at += n))).buffer);
    const kernelWide = Boolean(header.kernelWide);
    const vertices = new Float32Array(v);
    const cellStart = new Uint32Array(s);
    const candidates = header.wide ? new Uint32Array(c) : new Uint16Array(c);
    const cells = kernelWide ? new Uint32Array(kc) : new Uint16Array(kc);
    const groups = kernelWide ? new Uint32Array(kg) : new Uint16Array(kg);
    return {
      icosphere: { vertices, count: header.count, sha256: header.sha256, source: header.source },
      hash: { grid: header.grid, cellStart, candidates },
      cells: { cells, candidates: groups, wide: kernelWide },
    };
  } catch {
    return undefined;
  }
}
