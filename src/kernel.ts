// The host side of the WebAssembly kernel: loads it, lays out its memory, feeds it a file's bytes
// and turns its status codes into errors that name the file and the place.

import { openSync, readSync, fstatSync, closeSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { wasmModule as builtModule } from "./wasm-file.js";
import {
  FMT_ASCII, FMT_BINARY_LE, SLOT_COUNT, SLOT_R, SLOT_G, SLOT_B, SLOT_OPACITY, S_OK, S_BAD_NUMBER,
  T_F32, T_NONE, LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS, STAGING_STRIDE, SPLAT_STAGING_STRIDE, OPT_SKIP_INVALID,
  OPT_PROJECTION_RAY, OPT_INPUTS_5, OPT_RADIAL, X_WIDTH_2, X_WIDTH_5, Y_WIDTH, LAYOUT_BYTES, TABLE_STRIDE,
} from "./abi.js";
import { errors, warnings, HeadsnetError } from "./errors.js";
import { parseHeader, vertexLayout, findBodyOffset, MAX_HEADER_BYTES, type PlyHeader, checkVertexCount } from "./ply-header.js";
import { stageSplats, type SplatPass } from "./splats.js";
import { buildSpatialHash, kernelCells, type KernelCells, type SpatialHash } from "./spatial-hash.js";
import type { Icosphere } from "./icosphere.js";

export type Projection = "legacy" | "ray";
export type InputWidth = 2 | 5;

export type NormalsMode = "auto" | "file" | "compute";
export type NormalizeMode = "none" | "fit";
export type InvalidVertexPolicy = "fail" | "skip";

export interface KernelOptions {
  projection?: Projection;
  inputs?: InputWidth;
  /** auto: the file's normals, else computed from its faces; file: the file's; compute: from faces. */
  normals?: NormalsMode;
  /** fit: centre the bounding box, scale the largest half-extent to FIT_RADIUS. */
  normalize?: NormalizeMode;
  /** Non-finite vertices, and in ray mode vertices outside the sphere: fail the file or skip them. */
  onInvalid?: InvalidVertexPolicy;
  /** Colour for files without colours; without it such a file is an error. */
  defaultColor?: [number, number, number];
  /** 3D Gaussian splats: leave out splats whose opacity (the sigmoid of the file's logit) is below this (0-1). */
  minOpacity?: number;
}

/** --normalize fit scales the largest half-extent to this: the published dataset's pre-scaling. */
export const FIT_RADIUS = 0.55;

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  setIcosphere(ptr: number, count: number): void;
  setHash(grid: number, cellsPtr: number, candidatesPtr: number, wide: number): void;
  nearest(x: number, y: number, z: number): number;
  nearestBrute(x: number, y: number, z: number): number;
  fmaProbe(a: number, b: number, c: number): number;
  trace(x: number, y: number, z: number, nx: number, ny: number, nz: number, options: number): number;
  traced: WebAssembly.Global;
  slots: WebAssembly.Global;
  skipElement(start: number, stop: number, count: number, layout: number): number;
  compileVertices(start: number, stop: number, count: number, layout: number, xOut: number, yOut: number, id: number, options: number): number;
  decodeVertices(start: number, stop: number, count: number, layout: number, staging: number, stride: number): number;
  faceNormals(start: number, stop: number, faceCount: number, layout: number, staging: number, vertexCount: number): number;
  /** What compileVertices did: rows, skipped counts, the largest squared radius (assembly/index.ts). */
  result: WebAssembly.Global;
  errorAddress(): number;
  errorVertexIndex(): number;
  cursorAddress(): number;
}

/**
 * The kernel build: "release" runs the reference's fused multiply-adds as one instruction where
 * this process has been checked to do so (relaxed SIMD, on a CPU with fma), else emulates them
 * exactly; "release-emulated" always emulates them; "debug" emulates them, with assertions.
 */
export type WasmBuild = "release" | "release-emulated" | "debug";

/** A build's file under build/: release.wasm, release-fma.wasm or debug.wasm. */
const wasmFile = builtModule;

let fusedChecked: boolean | undefined;

/**
 * Whether this thread runs build/release-fma.wasm's fma fused, as the reference's -Ofast build
 * does. Node 20's V8 has relaxed SIMD behind a flag (on by default in later versions), and
 * relaxed_madd may be fused or not: the build is used only if, here and now, it gives what the
 * exact emulation gives on inputs where fused and unfused results differ.
 */
export function fusedFma(): boolean {
  if (fusedChecked === undefined) {
    fusedChecked = false;
    try {
      setFlagsFromString("--experimental-wasm-relaxed-simd");
      const probe = (name: string) => (new WebAssembly.Instance(wasmFile(name), {
        env: { parseDecimal: () => NaN, abort: () => { throw new Error("abort"); } },
      }).exports as unknown as { fmaProbe(a: number, b: number, c: number): number }).fmaProbe;
      const fused = probe("release-fma"), exact = probe("release");
      fusedChecked = FMA_PROBES.every(([a, b, c]) => Object.is(fused(a, b, c), exact(a, b, c)));
    } catch {
      // No relaxed SIMD in this runtime: the emulation.
    }
  }
  return fusedChecked;
}

/** Inputs whose fused and unfused float32 results differ: exact products meet near cancellation. */
const FMA_PROBES: [number, number, number][] = (() => {
  const f = Math.fround;
  const probes: [number, number, number][] = [[f(1 + 2 ** -12), f(1 + 2 ** -12), f(-(1 + 2 ** -11))]];
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 64; i++) {
    const a = f(next() * 4 - 2), b = f(next() * 4 - 2);
    probes.push([a, b, f(-(a * b) * (1 + (next() - 0.5) * 2 ** -20))]);
  }
  return probes;
})();

function wasmModule(build: WasmBuild): WebAssembly.Module {
  if (build === "debug") return wasmFile("debug");
  if (build === "release" && fusedFma()) return wasmFile("release-fma");
  return wasmFile("release");
}

export interface CompiledFile {
  rows: number;
  vertices: number;
  /**
   * Vertices without a row: (on-nonfinite skip) non-finite, outside the sphere (ray), too far from
   * every icosphere vertex; (minOpacity) splats more transparent than that.
   */
  skipped: SkippedVertices;
  /** Where the normals came from; "none": a point cloud (legacy keeps each point, ray traces radially). */
  normals: "file" | "computed" | "none";
  /** Said once per file: what compiled but may not be what the user meant. */
  warnings: string[];
  /** train_x rows (2 or 5 float32 each) and train_y rows (6 float32 each), owned by the caller. */
  x: Float32Array;
  y: Float32Array;
  hasNormals: boolean;
  hasColors: boolean;
  /** 3D Gaussian splats: their opacity range (sigmoid), when the file has opacities. */
  splats?: { opacity?: { min: number; max: number } };
  format: string;
  bytesRead: number;
}

export interface SkippedVertices {
  nonfinite: number;
  outsideSphere: number;
  tooFar: number;
  transparent: number;
}

const PAGE = 65536;
/** The first read of a file: enough for any ordinary header. */
const HEADER_PROBE_BYTES = 65536;

/** One instance of the kernel, set up for one icosphere. Not shareable between threads. */
export class Kernel {
  readonly icosphere: Icosphere;
  readonly hash: SpatialHash;
  readonly build: WasmBuild;
  /** How this instance computes the reference's fused multiply-adds. */
  readonly fma: "fused" | "emulated";
  private readonly wasm: KernelExports;
  private readonly layoutPtr: number;
  /**
   * Regions of memory above the tables, each holding one file and its rows (see useRegion()),
   * and the end of the highest. A region that must grow moves to the top when it is not there.
   */
  private readonly regions: { at: number; size: number }[] = [];
  private readonly freed: { at: number; size: number }[] = [];
  private top: number;
  private region = 0;

  /** `cells`: kernelCells() of the hash, when the caller has them (the compile workers do). */
  constructor(icosphere: Icosphere, options: { build?: WasmBuild; hash?: SpatialHash; cells?: KernelCells } = {}) {
    this.icosphere = icosphere;
    this.hash = options.hash ?? buildSpatialHash(icosphere.vertices);
    this.build = options.build ?? "release";
    this.fma = this.build === "release" && fusedFma() ? "fused" : "emulated";
    let exports: KernelExports | undefined;
    const instance = new WebAssembly.Instance(wasmModule(this.build), {
      env: {
        // The rare decimal the kernel's exact fast path cannot round: JavaScript's parser is exact.
        parseDecimal: (ptr: number, len: number) =>
          Number(Buffer.from(exports!.memory.buffer, ptr, len).toString("latin1")),
        abort: (_msg: number, _file: number, line: number, column: number) => {
          throw new Error(`kernel assertion failed at ${line}:${column}`);
        },
      },
    });
    exports = instance.exports as unknown as KernelExports;
    this.wasm = exports;

    // Static layout: icosphere table (one far row past the end pads candidate groups), cube-map
    // cells, candidate groups, layout block; then the regions, each a file and its rows.
    const groups = options.cells ?? kernelCells(this.hash, icosphere.count);
    let at = align(this.wasm.heapBase(), 64);
    const tablePtr = at; at = align(at + (icosphere.count + 1) * TABLE_STRIDE, 64);
    const cellsPtr = at; at = align(at + groups.cells.byteLength, 64);
    const candidatesPtr = at; at = align(at + groups.candidates.byteLength, 64);
    this.layoutPtr = at; at = align(at + LAYOUT_BYTES, 64);
    this.top = at;
    this.reserve(at);
    const rowFloats = TABLE_STRIDE / 4;
    const table = new Float32Array(this.wasm.memory.buffer, tablePtr, (icosphere.count + 1) * rowFloats);
    const v = icosphere.vertices;
    for (let i = 0, j = 0; i < icosphere.count; i++, j += rowFloats) {
      table[j] = v[3 * i];
      table[j + 1] = v[3 * i + 1];
      table[j + 2] = v[3 * i + 2];
    }
    table.fill(PAD_COORD, icosphere.count * rowFloats, icosphere.count * rowFloats + 3);
    new Uint8Array(this.wasm.memory.buffer, cellsPtr, groups.cells.byteLength)
      .set(new Uint8Array(groups.cells.buffer, groups.cells.byteOffset, groups.cells.byteLength));
    new Uint8Array(this.wasm.memory.buffer, candidatesPtr, groups.candidates.byteLength)
      .set(new Uint8Array(groups.candidates.buffer, groups.candidates.byteOffset, groups.candidates.byteLength));
    this.wasm.setIcosphere(tablePtr, icosphere.count);
    this.wasm.setHash(this.hash.grid, cellsPtr, candidatesPtr, groups.wide ? 1 : 0);
  }

  private reserve(bytes: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > 0xffff0000) throw new Error(`a file needs ${bytes} bytes of kernel memory; WebAssembly allows 4 GiB`);
      this.wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
  }

  /**
   * Where the next file is loaded and its rows written: region `r` (0 to start with). The rows
   * run() returns stay valid until their region is used again, so that a caller can write one
   * file's rows from kernel memory while the kernel compiles the next file in another region.
   */
  useRegion(r: number): void {
    if (!(Number.isInteger(r) && r >= 0 && r <= this.regions.length)) throw new Error(`no kernel region ${r}`);
    this.region = r;
  }

  /** The current region's start. */
  private get dataPtr(): number {
    return this.regions[this.region]?.at ?? this.top;
  }

  /**
   * Make the current region `bytes` long, keeping its first `keep` bytes; returns its start,
   * which moves when the region must grow and other regions lie above it.
   */
  private ensureRegion(bytes: number, keep: number): number {
    const r = this.regions[this.region];
    if (r && bytes <= r.size) return r.at;
    if (r && r.at + r.size === this.top) {
      r.size = align(bytes, 64);
      this.top = r.at + r.size;
      this.reserve(this.top);
      return r.at;
    }
    // Room to grow, so that files of similar sizes do not move it each time.
    let size = align(Math.max(bytes, r ? r.size * 1.25 : 0), 64);
    const hole = this.freed.findIndex((f) => f.size >= size);
    let at: number;
    if (hole >= 0) {
      ({ at, size } = this.freed.splice(hole, 1)[0]);
    } else {
      at = this.top;
      this.reserve(at + size);
      this.top = at + size;
    }
    if (r) {
      if (keep > 0) new Uint8Array(this.wasm.memory.buffer).copyWithin(at, r.at, r.at + keep);
      this.freed.push(r);
    }
    this.regions[this.region] = { at, size };
    return at;
  }

  /** Nearest icosphere vertex by the spatial hash (the reference's answer). */
  nearest(x: number, y: number, z: number): number {
    return this.wasm.nearest(x, y, z);
  }

  /** The reference's float32 fma(a, b, c), as this instance computes it: rounded once. */
  fma32(a: number, b: number, c: number): number {
    return this.wasm.fmaProbe(a, b, c);
  }

  /** Nearest icosphere vertex by the reference's brute force. */
  nearestBrute(x: number, y: number, z: number): number {
    return this.wasm.nearestBrute(x, y, z);
  }

  /** Where a vertex is traced to on its way to the sphere (float32 x y z), or a status code. */
  trace(v: ArrayLike<number>, n: ArrayLike<number>, projection: Projection = "legacy"): Float32Array | number {
    const status = this.wasm.trace(v[0], v[1], v[2], n[0], n[1], n[2], projection === "ray" ? OPT_PROJECTION_RAY : 0);
    if (status !== S_OK) return status;
    return new Float32Array(this.wasm.memory.buffer, this.wasm.traced.value as number, 3).slice();
  }

  /** Compile a PLY file held in memory. */
  compileBytes(bytes: Uint8Array, file: string, id: number, options: KernelOptions = {}): CompiledFile {
    return this.compileLoaded(this.load(bytes), file, id, options);
  }

  /** Put a file's bytes into kernel memory, for run(); returns their size. */
  load(bytes: Uint8Array): number {
    const at = this.ensureRegion(bytes.byteLength, 0);
    new Uint8Array(this.wasm.memory.buffer, at, bytes.byteLength).set(bytes);
    return bytes.byteLength;
  }

  /** Compile a PLY file from disk, read straight into kernel memory. */
  compileFile(path: string, id: number, options: KernelOptions = {}, label = path): CompiledFile {
    return this.compileLoaded(this.loadFile(path, label, options), label, id, options);
  }

  /**
   * Read a PLY file straight into kernel memory, for run(); returns the bytes read. When the
   * vertices are all that compile needs (their normals are in the file) and their records have
   * a fixed size, the faces after them are not read.
   */
  loadFile(path: string, label: string, options: KernelOptions = {}): number {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw errors.read(label, (e as Error).message);
    }
    try {
      const size = fstatSync(fd).size;
      const readTo = (from: number, to: number) => {
        const at = this.ensureRegion(to, from); // before taking the buffer: it may grow
        const target = new Uint8Array(this.wasm.memory.buffer, at, to);
        let done = from;
        while (done < to) {
          const n = readSync(fd, target, done, to - done, done);
          if (n === 0) break;
          done += n;
        }
        return done;
      };
      let loaded = readTo(0, Math.min(size, HEADER_PROBE_BYTES));
      let needed = size;
      if (loaded < size) {
        let body = findBodyOffset(new Uint8Array(this.wasm.memory.buffer, this.dataPtr, loaded));
        if (body < 0) {
          loaded = readTo(loaded, Math.min(size, MAX_HEADER_BYTES));
          body = findBodyOffset(new Uint8Array(this.wasm.memory.buffer, this.dataPtr, loaded));
        }
        if (body >= 0) {
          try {
            const layout = vertexLayout(this.header(loaded, label), label);
            const normals = options.normals ?? "auto";
            const needsFaces = !layout.splats && (normals === "compute" || (normals === "auto" && !layout.hasNormals));
            if (!needsFaces && layout.vertexEnd !== undefined) needed = Math.max(loaded, Math.min(size, layout.vertexEnd));
          } catch {
            // A bad header: run() reports it.
          }
        }
      }
      return loaded < needed ? readTo(loaded, needed) : loaded;
    } catch (e) {
      if (e instanceof HeadsnetError) throw e;
      throw errors.read(label, (e as Error).message);
    } finally {
      closeSync(fd);
    }
  }

  /** Header of a file already in kernel memory. */
  private header(size: number, file: string): PlyHeader {
    return parseHeader(new Uint8Array(this.wasm.memory.buffer, this.dataPtr, Math.min(size, MAX_HEADER_BYTES)), file);
  }

  private compileLoaded(size: number, file: string, id: number, options: KernelOptions): CompiledFile {
    const out = this.run(size, file, id, options);
    return { ...out, x: out.x.slice(), y: out.y.slice() };
  }

  /**
   * Compile the file that load() put in kernel memory. The rows returned are views of kernel
   * memory, valid until their region is used again: what the benchmark times as "the kernel alone".
   */
  run(size: number, file: string, id: number, options: KernelOptions = {}): CompiledFile {
    const header = this.header(size, file);
    const layout = vertexLayout(header, file);
    let base = this.dataPtr;
    let end = base + size;
    const memory = () => this.wasm.memory.buffer;

    // A kernel status becomes an error naming the byte offset, and for ASCII the line and token.
    const fail = (status: number, count: number, vertex?: number): never => {
      const address = this.wasm.errorAddress();
      const place: { offset: number; vertex?: number; line?: number; token?: string; count: number } =
        { offset: address - base, vertex, count };
      if (header.formatCode === FMT_ASCII) {
        const before = new Uint8Array(memory(), base, Math.min(address - base, size));
        place.line = 1;
        for (let i = 0; i < before.length; i++) if (before[i] === 10) place.line++;
        if (status === S_BAD_NUMBER) {
          place.token = Buffer.from(memory(), address, Math.min(40, end - address)).toString("latin1").split(/\s/)[0];
        }
      }
      throw errors.kernel(status, file, place);
    };

    // Skip the elements before the vertices.
    let start = base + header.bodyOffset;
    for (const element of layout.skip) {
      new Int32Array(memory(), this.layoutPtr, element.words.length).set(element.words);
      const status = this.wasm.skipElement(start, end, element.count, this.layoutPtr);
      if (status !== S_OK) fail(status, element.count);
      start = this.wasm.cursorAddress();
    }

    const count = layout.vertexCount;
    checkVertexCount(header, layout, start, end, base, file);
    if (!layout.hasColors && !options.defaultColor) throw errors.noColors(file);
    const normals = options.normals ?? "auto";
    if (normals !== "auto" && layout.splats) throw errors.noNormals(file, "splats");
    if (normals === "file" && !layout.hasNormals) throw errors.noNormals(file, "file");
    if (normals === "compute" && !layout.faces) throw errors.noNormals(file, "compute");
    // Without normals in the file, they are computed from its faces; a point cloud (no faces) has
    // none: the legacy step then keeps each point where it is (as the reference does with zero
    // normals), and the ray goes straight out from the centre.
    const compute = !layout.splats && (normals === "compute" || (normals === "auto" && !layout.hasNormals && Boolean(layout.faces)));
    const pointCloud = !compute && !layout.hasNormals;
    // Splats are staged with their opacity, then turned into staged vertices (splats.ts).
    const splats = layout.splats;
    const staged = compute || options.normalize === "fit" || splats !== undefined;
    const stagingStride = splats ? SPLAT_STAGING_STRIDE : STAGING_STRIDE;

    const xWidth = options.inputs === 5 ? X_WIDTH_5 : X_WIDTH_2;
    // The rows (and staged vertices) follow the file in its region, which may move to make room.
    const xAt = align(size, 16);
    const yAt = align(xAt + count * xWidth * 4, 16);
    const stagingAt = align(yAt + count * Y_WIDTH * 4, 16);
    const moved = this.ensureRegion(staged ? stagingAt + count * stagingStride : stagingAt, size) - base;
    base += moved;
    end += moved;
    start += moved;
    const xPtr = base + xAt, yPtr = base + yAt, stagingPtr = base + stagingAt;
    // Absent properties: zero normals, the default colour.
    const slots = new Float32Array(memory(), this.wasm.slots.value as number, SLOT_COUNT);
    slots.fill(0);
    if (options.defaultColor) [slots[SLOT_R], slots[SLOT_G], slots[SLOT_B]] = options.defaultColor;
    const setLayout = (words: Int32Array) => new Int32Array(memory(), this.layoutPtr, words.length).set(words);
    setLayout(layout.words);

    let vertexStart = start, vertexEnd = end;
    let vertices = count;
    let splatPass: SplatPass | undefined;
    if (staged) {
      const decoded = this.wasm.decodeVertices(start, end, count, this.layoutPtr, stagingPtr, stagingStride);
      if (decoded !== S_OK) fail(decoded, count, this.wasm.errorVertexIndex());
      if (splats) {
        splatPass = stageSplats(new Float32Array(memory(), stagingPtr, count * (SPLAT_STAGING_STRIDE / 4)), count, splats.hasOpacity, options.minOpacity);
        vertices = splatPass.kept;
      }
      if (compute) {
        let at = this.wasm.cursorAddress();
        for (const element of layout.faces!.between) {
          setLayout(element.words);
          const skipped = this.wasm.skipElement(at, end, element.count, this.layoutPtr);
          if (skipped !== S_OK) fail(skipped, element.count);
          at = this.wasm.cursorAddress();
        }
        setLayout(layout.faces!.words);
        const faced = this.wasm.faceNormals(at, end, layout.faces!.count, this.layoutPtr, stagingPtr, count);
        if (faced !== S_OK) fail(faced, layout.faces!.count, this.wasm.errorVertexIndex());
      }
      if (options.normalize === "fit") fit(new Float32Array(memory(), stagingPtr, vertices * (STAGING_STRIDE / 4)));
      vertexStart = stagingPtr;
      vertexEnd = stagingPtr + vertices * STAGING_STRIDE;
      setLayout(STAGED_LAYOUT);
    }
    let flags = 0;
    if (options.projection === "ray") flags |= OPT_PROJECTION_RAY;
    if (xWidth === X_WIDTH_5) flags |= OPT_INPUTS_5;
    if (options.onInvalid === "skip") flags |= OPT_SKIP_INVALID;
    if (pointCloud && options.projection === "ray") flags |= OPT_RADIAL;
    const status = this.wasm.compileVertices(vertexStart, vertexEnd, vertices, this.layoutPtr, xPtr, yPtr, Math.fround(id), flags);
    if (status !== S_OK) {
      // Errors in staged vertices are reported at the vertex's record in the file when it has
      // fixed records, else at the vertex element's start.
      if (staged) {
        const row = this.wasm.errorVertexIndex();
        const vertex = splatPass?.fileVertex ? splatPass.fileVertex[row] : row;
        const stride = layout.words[1];
        throw errors.kernel(status, file, { offset: start - base + (stride > 0 ? vertex * stride : 0), vertex, count });
      }
      fail(status, count, this.wasm.errorVertexIndex());
    }
    const done = new DataView(memory(), this.wasm.result.value as number, 24);
    const rows = done.getInt32(0, true);
    const maxRadius = Math.sqrt(done.getFloat64(16, true));
    return {
      rows,
      vertices: count,
      skipped: {
        nonfinite: done.getInt32(4, true), outsideSphere: done.getInt32(8, true), tooFar: done.getInt32(12, true),
        transparent: splatPass?.transparent ?? 0,
      },
      normals: compute ? "computed" : pointCloud ? "none" : "file",
      warnings: maxRadius > 1 ? [warnings.outsideSphere(maxRadius)] : [],
      x: new Float32Array(memory(), xPtr, rows * xWidth),
      y: new Float32Array(memory(), yPtr, rows * Y_WIDTH),
      hasNormals: layout.hasNormals,
      hasColors: layout.hasColors,
      splats: splatPass && { opacity: splatPass.opacity },
      format: header.format,
      bytesRead: size,
    };
  }
}

/** Staged vertices: little-endian float32 x y z nx ny nz r g b (colours already scaled). */
const STAGED_LAYOUT = (() => {
  const slots = SLOT_OPACITY; // x to b: a mesh vertex's values
  const words = new Int32Array(LAYOUT_HEADER_WORDS + LAYOUT_PROP_WORDS * slots);
  words[0] = FMT_BINARY_LE;
  words[1] = STAGING_STRIDE;
  words[2] = slots;
  for (let slot = 0; slot < slots; slot++) {
    words.set([T_F32, T_NONE, slot, slot * 4], LAYOUT_HEADER_WORDS + LAYOUT_PROP_WORDS * slot);
  }
  return words;
})();

/** --normalize fit: centre the bounding box and scale its largest half-extent to FIT_RADIUS. */
function fit(staging: Float32Array): void {
  const stride = STAGING_STRIDE / 4;
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < staging.length; k += stride) {
    for (let c = 0; c < 3; c++) {
      const v = staging[k + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  const centre = [0, 1, 2].map((c) => (min[c] + max[c]) / 2);
  const half = Math.max(...[0, 1, 2].map((c) => (max[c] - min[c]) / 2));
  if (!(half > 0 && Number.isFinite(half))) return; // a point, or non-finite values the kernel reports
  const scale = FIT_RADIUS / half;
  for (let k = 0; k < staging.length; k += stride) {
    for (let c = 0; c < 3; c++) staging[k + c] = (staging[k + c] - centre[c]) * scale;
  }
}

// Coordinates of the padding row: far from every point the cube map serves.
const PAD_COORD = 1e18;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
