// The host side of the mesh kernel (build/mesh.wasm): loads a PLY or OBJ file into its memory and
// runs one target on it, turning status codes into errors that name the file and the place.
//
// One MeshKernel holds one mesh at a time (the last one loaded) and is not shareable between
// threads; each load forgets the previous mesh and everything built for it. Outputs are copied
// out of kernel memory into the caller's arrays (or new ones), so they stay valid.

import { readFileSync, openSync, readSync, fstatSync, closeSync } from "node:fs";
import { extname, join } from "node:path";
import { createHash } from "node:crypto";
import { wasmModule } from "../wasm-file.js";
import {
  FMT_ASCII, SLOT_COUNT, SLOT_R, SLOT_G, SLOT_B, S_OK, S_BAD_NUMBER, S_NONFINITE,
  STAGING_STRIDE, LAYOUT_BYTES, MR_WORDS, MR_STATUS, MR_ERROR_AT, MR_ITEM, MR_VERTICES,
  MR_TRIANGLES, MR_FLAGS, MR_PTR, MR_PTR2, MR_COUNT, MR_NORMAL_COUNT, MR_GRID, MR_RECORDS,
  S_NO_MEMORY, MF_FILE_NORMALS, MF_COLORS, MF_FINITE, NOISE_ISOTROPIC, NOISE_NORMAL, SURFACE_WIDTH, OCCUPANCY_WIDTH, T_U8,
} from "../abi.js";
import { errors, meshErrors, HeadsnetError, type ErrorPlace } from "../errors.js";
import { parseHeader, vertexLayout, MAX_HEADER_BYTES, checkVertexCount } from "../ply-header.js";
import { cameraFrame, meshLight } from "../view/raster.js";
import { renderFront as renderFrontJs, renderFrontRgb as renderFrontRgbJs, type FrontOptions } from "./render.js";

export type MeshFormat = "ply" | "obj";
export type MeshBuild = "release" | "debug";

export interface LoadOptions {
  /** By extension when absent: .obj is OBJ, anything else PLY. */
  format?: MeshFormat;
  /** auto: the file's normals (PLY nx ny nz; OBJ vn named consistently by every corner), else
   * computed from the triangles; compute: always computed. */
  normals?: "auto" | "compute";
  /** Colour (0-1 each) for files without colours; without it such a mesh is white and the
   * targets that need colours refuse it (MeshInfo.hasColors is false). */
  defaultColor?: readonly [number, number, number];
}

export interface MeshInfo {
  file: string;
  format: MeshFormat;
  bytes: number;
  vertices: number;
  triangles: number;
  normals: "file" | "computed";
  /** The file has vertex colours. */
  hasColors: boolean;
  /** Its colours were uchar (0-255), so FaceNet's colour sum is exact integers. */
  colorBytes: boolean;
  /** A default colour was used for a file without colours. */
  defaultColor: boolean;
}

export interface SurfaceOptions {
  /** The random stream: see sampleSeed(). */
  seed: SampleSeed;
  /** face (default): the sampled triangle's unit normal; vertex: interpolated vertex normals. */
  normals?: "face" | "vertex";
}

export interface OccupancyOptions {
  seed: SampleSeed;
  /** The box is the bounding box grown on every side by this times its largest side (0.1). */
  margin?: number;
  /** Near-surface noise, times the bounding box's largest side (0.01). */
  sigma?: number;
  /** Share of the samples uniform in the box (0.5); the rest are near the surface. */
  uniformFraction?: number;
  /** isotropic (default): Gaussian in every direction; normal: along the triangle's normal. */
  noise?: "isotropic" | "normal";
}

/** A 64-bit seed as two 32-bit halves. */
export type SampleSeed = readonly [number, number];

/**
 * The seed of one file's samples: a hash of the run's seed, the file's key (its path relative to
 * its input, say) and the target, so that a file gets the same samples in any run, on any thread,
 * whatever else is compiled.
 */
export function sampleSeed(seed: number, key: string, stream: string): SampleSeed {
  const digest = createHash("sha256").update(`headsnet-mesh\0${stream}\0${seed}\0${key}`).digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4)];
}

interface MeshExports {
  memory: WebAssembly.Memory;
  result: WebAssembly.Global;
  slots: WebAssembly.Global;
  reset(): void;
  arenaTop(): number;
  alloc(bytes: number): number;
  skipElement(start: number, stop: number, count: number, layout: number): number;
  decodeVertices(start: number, stop: number, count: number, layout: number, staging: number, stride: number): number;
  decodePlainVertices(start: number, stop: number, count: number, layout: number, staging: number): number;
  errorAddress(): number;
  errorVertexIndex(): number;
  cursorAddress(): number;
  readPlyTriangles(start: number, stop: number, faceCount: number, layout: number, vertexCount: number): number;
  objCount(start: number, stop: number): number;
  objParse(start: number, stop: number, staging: number, normals: number, triangles: number, vertexNormal: number,
    vTotal: number, vnTotal: number, r: number, g: number, b: number): number;
  objNormals(staging: number, count: number, normals: number, vertexNormal: number): void;
  finishMesh(vertices: number, count: number, triangles: number, triangleCount: number, fileNormals: number, knownFinite: number): number;
  voxelize(grid: number, occupancy: number, colorBytes: number): number;
  renderFront(size: number, supersample: number, r: number, g: number, b: number, frame: number, rgb: number): number;
  prepareSurface(): number;
  prepareOccupancy(): number;
  surfaceArea(): number;
  sampleSurface(n: number, seedLo: number, seedHi: number, vertexNormals: number, out: number, trianglesOut: number): number;
  prepareInside(): number;
  labelPoints(points: number, count: number, out: number): number;
  sampleOccupancy(n: number, uniformCount: number, seedLo: number, seedHi: number, margin: number, sigma: number, noise: number, out: number): number;
  kdBuild(points: number, count: number): number;
  kdNearest(queries: number, count: number, distOut: number, indexOut: number): number;
}

function meshModule(build: MeshBuild, file?: string): WebAssembly.Module {
  return wasmModule(file ?? (build === "debug" ? "mesh-debug" : "mesh"));
}

/** The mesh kernel: one mesh at a time. */
export class MeshKernel {
  readonly build: MeshBuild;
  private readonly wasm: MeshExports;
  private mesh?: MeshInfo;
  private surfaceBuilt = false;
  private insideBuilt = false;
  /** Kernel memory for surface rows, kept for the loaded mesh: another call reuses it instead of
   * growing the arena (fresh pages cost a fault each, as much as the sampling itself). */
  private surfaceRowsAt = 0;
  private surfaceRowsBytes = 0;
  private drawsBuilt = false;
  /** Where the loaded mesh's vertices (staging rows) and triangles are. */
  private vertexAt = 0;
  private triangleAt = 0;

  /** `wasm`: the path of another build of the kernel (a benchmark compares two in one process). */
  constructor(options: { build?: MeshBuild; wasm?: string } = {}) {
    this.build = options.build ?? "release";
    let exports: MeshExports | undefined;
    const instance = new WebAssembly.Instance(meshModule(this.build, options.wasm), {
      env: {
        parseDecimal: (ptr: number, len: number) => Number(Buffer.from(exports!.memory.buffer, ptr, len).toString("latin1")),
        abort: (_msg: number, _file: number, line: number, column: number) => {
          throw new Error(`mesh kernel assertion failed at ${line}:${column}`);
        },
      },
    });
    exports = instance.exports as unknown as MeshExports;
    this.wasm = exports;
  }

  /** The loaded mesh's facts. */
  get info(): MeshInfo {
    if (!this.mesh) throw new Error("no mesh is loaded");
    return this.mesh;
  }

  private words(): Int32Array {
    return new Int32Array(this.wasm.memory.buffer, this.wasm.result.value as number, MR_WORDS);
  }

  private bytes(at: number, length: number): Uint8Array {
    return new Uint8Array(this.wasm.memory.buffer, at, length);
  }

  private alloc(bytes: number, file: string): number {
    const at = this.wasm.alloc(bytes);
    if (at === 0 && bytes > 0) throw meshErrors.status(S_NO_MEMORY, file);
    return at;
  }

  private reset(): void {
    this.wasm.reset();
    this.mesh = undefined;
    this.surfaceBuilt = false;
    this.insideBuilt = false;
    this.surfaceRowsAt = 0;
    this.surfaceRowsBytes = 0;
    this.drawsBuilt = false;
  }

  /** Read a PLY or OBJ file into kernel memory as the current mesh. `label` names it in errors. */
  loadFile(path: string, options: LoadOptions & { label?: string } = {}): MeshInfo {
    const label = options.label ?? path;
    this.reset();
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw errors.read(label, (e as Error).message);
    }
    let size: number, base: number;
    try {
      size = fstatSync(fd).size;
      base = this.alloc(size + 1, label);
      const target = this.bytes(base, size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, target, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      size = done;
    } catch (e) {
      if (e instanceof HeadsnetError) throw e;
      throw errors.read(label, (e as Error).message);
    } finally {
      closeSync(fd);
    }
    return this.loadPlaced(base, size, label, options.format ?? formatOf(path), options);
  }

  /** The same as loadFile, from bytes in memory; `file` gives the format, `label` (default `file`) names it in errors. */
  loadBytes(data: Uint8Array, file: string, options: LoadOptions & { label?: string } = {}): MeshInfo {
    const label = options.label ?? file;
    this.reset();
    const base = this.alloc(data.byteLength + 1, label);
    this.bytes(base, data.byteLength).set(data);
    return this.loadPlaced(base, data.byteLength, label, options.format ?? formatOf(file), options);
  }

  private loadPlaced(base: number, size: number, file: string, format: MeshFormat, options: LoadOptions): MeshInfo {
    this.mesh = format === "obj" ? this.loadObj(base, size, file, options) : this.loadPly(base, size, file, options);
    return this.mesh;
  }

  private loadPly(base: number, size: number, file: string, options: LoadOptions): MeshInfo {
    const w = this.wasm;
    const header = parseHeader(this.bytes(base, Math.min(size, MAX_HEADER_BYTES)), file);
    const layout = vertexLayout(header, file);
    const end = base + size;
    const layoutPtr = this.alloc(LAYOUT_BYTES, file);
    const setLayout = (words: Int32Array) => new Int32Array(w.memory.buffer, layoutPtr, words.length).set(words);
    // A kernel status becomes an error naming the byte offset, and for ASCII the line and token.
    const fail = (status: number, count: number, item?: number): never => {
      const address = w.errorAddress();
      const place: ErrorPlace & { count: number; token?: string } = { offset: address - base, vertex: item, count };
      if (header.formatCode === FMT_ASCII) {
        place.line = lineOf(this.bytes(base, Math.min(address - base, size)));
        if (status === S_BAD_NUMBER) place.token = tokenAt(this.bytes(address, Math.min(40, end - address)));
      }
      throw errors.kernel(status, file, place);
    };
    let start = base + header.bodyOffset;
    for (const element of layout.skip) {
      setLayout(element.words);
      const status = w.skipElement(start, end, element.count, layoutPtr);
      if (status !== S_OK) fail(status, element.count);
      start = w.cursorAddress();
    }
    const count = layout.vertexCount;
    checkVertexCount(header, layout, start, end, base, file);
    const staging = this.alloc(count * STAGING_STRIDE, file);
    const slots = new Float32Array(w.memory.buffer, w.slots.value as number, SLOT_COUNT);
    slots.fill(0);
    [slots[SLOT_R], slots[SLOT_G], slots[SLOT_B]] = options.defaultColor ?? [1, 1, 1];
    setLayout(layout.words);
    // The common layouts' own loop first; it declines (having written nothing) every other
    // layout and every body that needs an error, which the general decoder then reports.
    let decoded = w.decodePlainVertices(start, end, count, layoutPtr, staging);
    // It checks the values as it writes them; finishMesh checks the general decoder's rows.
    const knownFinite = decoded === S_OK && (this.words()[MR_FLAGS] & MF_FINITE) !== 0;
    if (decoded !== S_OK) decoded = w.decodeVertices(start, end, count, layoutPtr, staging, STAGING_STRIDE);
    if (decoded !== S_OK) fail(decoded, count, w.errorVertexIndex());
    let triangles = 0, triangleCount = 0;
    if (layout.faces) {
      let at = w.cursorAddress();
      for (const element of layout.faces.between) {
        setLayout(element.words);
        const skipped = w.skipElement(at, end, element.count, layoutPtr);
        if (skipped !== S_OK) fail(skipped, element.count);
        at = w.cursorAddress();
      }
      setLayout(layout.faces.words);
      const status = w.readPlyTriangles(at, end, layout.faces.count, layoutPtr, count);
      const r = this.words();
      if (status !== S_OK) {
        let address = r[MR_ERROR_AT] >>> 0;
        // A face starts where the previous record ended: in ASCII, past the line break.
        const memory = new Uint8Array(w.memory.buffer);
        if (header.formatCode === FMT_ASCII) while (address < end && memory[address] <= 0x20) address++;
        const place: ErrorPlace & { count: number; token?: string } = { offset: address - base, vertex: r[MR_ITEM], count: layout.faces.count };
        if (header.formatCode === FMT_ASCII) {
          place.line = lineOf(this.bytes(base, Math.min(address - base, size)));
          if (status === S_BAD_NUMBER) place.token = tokenAt(this.bytes(address, Math.min(40, end - address)));
        }
        if (status === S_NO_MEMORY) throw meshErrors.status(status, file);
        throw errors.kernel(status, file, place);
      }
      triangles = r[MR_PTR2] >>> 0;
      triangleCount = r[MR_TRIANGLES];
    }
    const fileNormals = layout.hasNormals && options.normals !== "compute";
    this.vertexAt = staging;
    this.triangleAt = triangles;
    const finished = w.finishMesh(staging, count, triangles, triangleCount, fileNormals ? 1 : 0, knownFinite ? 1 : 0);
    if (finished !== S_OK) {
      const vertex = this.words()[MR_ITEM];
      const stride = header.formatCode === FMT_ASCII ? 0 : layout.words[1];
      if (finished === S_NONFINITE) throw errors.kernel(S_NONFINITE, file, { offset: start - base + vertex * stride, vertex, count });
      throw meshErrors.status(finished, file);
    }
    const colorType = header.elements.find((e) => e.name === "vertex")!.properties.find((p) => p.name === "red" || p.name === "r" || p.name === "diffuse_red")?.type;
    return {
      file, format: "ply", bytes: size, vertices: count, triangles: triangleCount,
      normals: fileNormals ? "file" : "computed",
      hasColors: layout.hasColors,
      colorBytes: layout.hasColors && colorType === T_U8,
      defaultColor: !layout.hasColors && options.defaultColor !== undefined,
    };
  }

  private loadObj(base: number, size: number, file: string, options: LoadOptions): MeshInfo {
    const w = this.wasm;
    const end = base + size;
    w.objCount(base, end);
    let r = this.words();
    const vTotal = r[MR_VERTICES], vnTotal = r[MR_NORMAL_COUNT], tTotal = r[MR_TRIANGLES];
    const staging = this.alloc(vTotal * STAGING_STRIDE, file);
    const normals = this.alloc(vnTotal * 12, file);
    const triangles = this.alloc(tTotal * 12, file);
    const vertexNormal = this.alloc(vTotal * 4, file);
    const [cr, cg, cb] = options.defaultColor ?? [1, 1, 1];
    const status = w.objParse(base, end, staging, normals, triangles, vertexNormal, vTotal, vnTotal, cr, cg, cb);
    r = this.words();
    if (status !== S_OK) {
      const address = r[MR_ERROR_AT] >>> 0;
      const within = Math.min(Math.max(address - base, 0), size);
      throw meshErrors.obj(status, file, {
        line: lineOf(this.bytes(base, within)),
        offset: within,
        token: tokenAt(this.bytes(base + within, Math.min(60, size - within))),
        item: r[MR_ITEM],
        vertices: vTotal,
        normals: vnTotal,
      });
    }
    const flags = r[MR_FLAGS];
    const fileNormals = (flags & MF_FILE_NORMALS) !== 0 && options.normals !== "compute";
    if (fileNormals) w.objNormals(staging, vTotal, normals, vertexNormal);
    this.vertexAt = staging;
    this.triangleAt = triangles;
    const finished = w.finishMesh(staging, vTotal, triangles, tTotal, fileNormals ? 1 : 0, 0);
    if (finished !== S_OK) throw meshErrors.status(finished, file);
    const hasColors = (flags & MF_COLORS) !== 0;
    return {
      file, format: "obj", bytes: size, vertices: vTotal, triangles: tTotal,
      normals: fileNormals ? "file" : "computed",
      hasColors, colorBytes: false,
      defaultColor: !hasColors && options.defaultColor !== undefined,
    };
  }

  private check(status: number): void {
    if (status !== S_OK) throw meshErrors.status(status, this.info.file);
  }

  /**
   * FaceNet's voxel grid of the loaded mesh (see assembly/mesh/voxels.ts): grid³ bytes, index
   * z·grid² + y·grid + x. value: color (default), the mean (r+g+b)/765 per voxel times 255;
   * occupancy, 255 for every voxel with a vertex. Empty voxels are 0.
   */
  voxelize(options: { grid?: number; value?: "color" | "occupancy" } = {}, out?: Uint8Array): { voxels: Uint8Array; occupied: number } {
    const mesh = this.info;
    const grid = options.grid ?? 32;
    if (!(Number.isInteger(grid) && grid >= 2 && grid <= 1024)) throw new RangeError(`grid must be an integer from 2 to 1024, got ${grid}`);
    const value = options.value ?? "color";
    if (value === "color" && !mesh.hasColors && !mesh.defaultColor) throw meshErrors.noColors(mesh.file, "voxels of mean colour");
    this.check(this.wasm.voxelize(grid, value === "occupancy" ? 1 : 0, mesh.colorBytes ? 1 : 0));
    const r = this.words();
    const voxels = out ?? new Uint8Array(grid ** 3);
    voxels.set(this.bytes(r[MR_PTR] >>> 0, grid ** 3));
    return { voxels, occupied: r[MR_COUNT] };
  }

  /**
   * The loaded mesh's front view, drawn in the kernel: the same bytes as renderFront (grayscale,
   * supersample 4 by default) or, with `rgb`, renderFrontRgb (supersample 2) of src/mesh/render.ts
   * on this mesh's arrays(). A mesh without triangles (drawn as points) and pictures of more than
   * 8192 × 8192 drawn pixels go to those (in JavaScript).
   */
  renderFront(size: number, options: FrontOptions & { rgb?: boolean } = {}): Uint8Array {
    const mesh = this.info;
    if (!(Number.isInteger(size) && size >= 1 && size <= 4096)) throw new RangeError(`image size must be an integer from 1 to 4096, got ${size}`);
    const rgb = options.rgb ?? false;
    const supersample = options.supersample ?? (rgb ? 2 : 4);
    if (!(Number.isInteger(supersample) && supersample >= 1)) throw new RangeError(`supersample must be an integer from 1, got ${supersample}`);
    const grey = options.background ?? 0;
    if (!(grey >= 0 && grey <= 255)) throw new RangeError(`background must be a grey from 0 to 255, got ${grey}`);
    // The kernel takes 24 bytes a drawn pixel of its 32-bit memory: larger pictures go to JavaScript.
    if (mesh.triangles === 0 || size * supersample > 8192) {
      const front = { background: grey, supersample };
      return rgb ? renderFrontRgbJs(this.arrays(), size, front) : renderFrontJs(this.arrays(), size, front);
    }
    const frame = this.alloc(FRONT_FRAME.byteLength, mesh.file);
    new Float64Array(this.wasm.memory.buffer, frame, FRONT_FRAME.length).set(FRONT_FRAME);
    this.check(this.wasm.renderFront(size, supersample, grey, grey, grey, frame, rgb ? 1 : 0));
    return this.bytes(this.words()[MR_PTR] >>> 0, size * size * (rgb ? 3 : 1)).slice();
  }

  private prepareSurface(): void {
    if (this.surfaceBuilt) return;
    this.check(this.wasm.prepareSurface());
    this.surfaceBuilt = true;
  }

  private prepareInside(): void {
    if (this.insideBuilt) return;
    this.check(this.wasm.prepareInside());
    this.insideBuilt = true;
  }

  /** The occupancy sampler's draw tables (from the inside test's, without the surface records). */
  private prepareOccupancy(): void {
    if (this.drawsBuilt) return;
    this.prepareInside();
    this.check(this.wasm.prepareOccupancy());
    this.drawsBuilt = true;
  }

  /** Total area of the loaded mesh's triangles. */
  area(): number {
    this.prepareSurface();
    return this.wasm.surfaceArea();
  }

  /**
   * `n` area-weighted surface samples: rows of float32 x y z nx ny nz r g b. With `triangles`,
   * also each sample's triangle.
   */
  sampleSurface(n: number, options: SurfaceOptions, out?: Float32Array, triangles?: Uint32Array): Float32Array {
    const mesh = this.info;
    checkCount(n);
    if (!mesh.hasColors && !mesh.defaultColor) throw meshErrors.noColors(mesh.file, "surface samples");
    this.prepareSurface();
    const rowBytes = n * SURFACE_WIDTH * 4, bytes = rowBytes + (triangles ? n * 4 : 0);
    if (bytes > this.surfaceRowsBytes) {
      this.surfaceRowsAt = this.alloc(bytes, mesh.file);
      this.surfaceRowsBytes = bytes;
    }
    const rows = this.surfaceRowsAt;
    const tris = triangles ? rows + rowBytes : 0;
    this.check(this.wasm.sampleSurface(n, options.seed[0], options.seed[1], options.normals === "vertex" ? 1 : 0, rows, tris));
    const result = out ?? new Float32Array(n * SURFACE_WIDTH);
    result.set(new Float32Array(this.wasm.memory.buffer, rows, n * SURFACE_WIDTH));
    if (triangles) triangles.set(new Uint32Array(this.wasm.memory.buffer, tris, n));
    return result;
  }

  /** `n` occupancy samples: rows of float32 x y z inside weight (see assembly/mesh/sample.ts). */
  sampleOccupancy(n: number, options: OccupancyOptions, out?: Float32Array): { rows: Float32Array; inside: number; uniform: number } {
    const mesh = this.info;
    checkCount(n);
    const fraction = options.uniformFraction ?? 0.5;
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`uniformFraction must be from 0 to 1, got ${fraction}`);
    const margin = options.margin ?? 0.1, sigma = options.sigma ?? 0.01;
    if (!(margin >= 0 && Number.isFinite(margin))) throw new RangeError(`margin must be 0 or more, got ${margin}`);
    if (!(sigma >= 0 && Number.isFinite(sigma))) throw new RangeError(`sigma must be 0 or more, got ${sigma}`);
    const uniform = Math.round(n * fraction);
    this.prepareInside();
    if (uniform < n) this.prepareOccupancy();
    const rows = this.alloc(n * OCCUPANCY_WIDTH * 4, mesh.file);
    this.check(this.wasm.sampleOccupancy(n, uniform, options.seed[0], options.seed[1], margin, sigma,
      options.noise === "normal" ? NOISE_NORMAL : NOISE_ISOTROPIC, rows));
    const inside = this.words()[MR_COUNT];
    const result = out ?? new Float32Array(n * OCCUPANCY_WIDTH);
    result.set(new Float32Array(this.wasm.memory.buffer, rows, n * OCCUPANCY_WIDTH));
    return { rows: result, inside, uniform };
  }

  /** Inside (1) or outside (0) the loaded mesh, for float32 x y z points. */
  labelPoints(points: Float32Array, out?: Uint8Array): Uint8Array {
    const mesh = this.info;
    const count = Math.floor(points.length / 3);
    this.prepareInside();
    const at = this.alloc(count * 12, mesh.file);
    const labels = this.alloc(count, mesh.file);
    new Float32Array(this.wasm.memory.buffer, at, count * 3).set(points.subarray(0, count * 3));
    this.check(this.wasm.labelPoints(at, count, labels));
    const result = out ?? new Uint8Array(count);
    result.set(this.bytes(labels, count));
    return result;
  }

  /** The inside test's grid: cells per axis and triangle records (for benchmarks and tests). */
  insideGrid(): { cells: [number, number, number]; records: number } {
    this.prepareInside();
    const r = this.words();
    return { cells: [r[MR_GRID], r[MR_GRID + 1], r[MR_GRID + 2]], records: r[MR_RECORDS] };
  }

  /** Copies of the loaded mesh: float32 positions, normals and colours (x y z each), triangles. */
  arrays(): { positions: Float32Array; normals: Float32Array; colors: Float32Array; triangles: Uint32Array } {
    const mesh = this.info;
    const rows = new Float32Array(this.wasm.memory.buffer, this.vertexAt, mesh.vertices * (STAGING_STRIDE / 4));
    const positions = new Float32Array(mesh.vertices * 3), normals = new Float32Array(mesh.vertices * 3), colors = new Float32Array(mesh.vertices * 3);
    const stride = STAGING_STRIDE / 4;
    for (let i = 0, j = 0, k = 0; i < mesh.vertices; i++, j += 3, k += stride) {
      positions[j] = rows[k]; positions[j + 1] = rows[k + 1]; positions[j + 2] = rows[k + 2];
      normals[j] = rows[k + 3]; normals[j + 1] = rows[k + 4]; normals[j + 2] = rows[k + 5];
      colors[j] = rows[k + 6]; colors[j + 1] = rows[k + 7]; colors[j + 2] = rows[k + 8];
    }
    const triangles = new Uint32Array(this.wasm.memory.buffer, this.triangleAt, mesh.triangles * 3).slice();
    return { positions, normals, colors, triangles };
  }


  /** For the metrics: nearest-neighbour queries (a fresh arena; forgets the loaded mesh). */
  nearest(reference: Float32Array, queries: Float32Array, dist2: Float64Array, index: Uint32Array): void {
    this.reset();
    const n = reference.length / 3, m = queries.length / 3;
    const ref = this.alloc(n * 12, "metrics"), q = this.alloc(m * 12, "metrics");
    new Float32Array(this.wasm.memory.buffer, ref, n * 3).set(reference);
    new Float32Array(this.wasm.memory.buffer, q, m * 3).set(queries);
    const d = this.alloc(m * 8, "metrics"), k = this.alloc(m * 4, "metrics");
    if (this.wasm.kdBuild(ref, n) !== S_OK) throw meshErrors.status(this.words()[MR_STATUS], "metrics");
    this.wasm.kdNearest(q, m, d, k);
    dist2.set(new Float64Array(this.wasm.memory.buffer, d, m));
    index.set(new Uint32Array(this.wasm.memory.buffer, k, m));
  }
}

/** The front view's camera frame and light (right, up, forward, light), as the JavaScript renderer has them. */
const FRONT_FRAME = (() => {
  const frame = cameraFrame("front");
  return Float64Array.from([...frame.right, ...frame.up, ...frame.forward, ...meshLight(frame)]);
})();

function checkCount(n: number): void {
  if (!(Number.isInteger(n) && n >= 0 && n <= 100_000_000)) throw new RangeError(`samples must be an integer from 0 to 100,000,000, got ${n}`);
}

function formatOf(path: string): MeshFormat {
  return extname(path).toLowerCase() === ".obj" ? "obj" : "ply";
}

/** The line (1-based) at the end of `before`: \n, \r\n and a lone \r each end a line. */
function lineOf(before: Uint8Array): number {
  let line = 1;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === 10) line++;
    else if (before[i] === 13 && before[i + 1] !== 10) line++;
  }
  return line;
}

function tokenAt(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1").split(/[\s#]/)[0];
}
