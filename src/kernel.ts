// The host side of the WebAssembly kernel: loads it, lays out its memory, feeds it a file's bytes
// and turns its status codes into errors that name the file and the place.

import { readFileSync, openSync, readSync, fstatSync, closeSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package.js";
import {
  FMT_ASCII, SLOT_COUNT, SLOT_R, SLOT_G, SLOT_B, S_OK, S_BAD_NUMBER,
  OPT_PROJECTION_RAY, OPT_INPUTS_5, X_WIDTH_2, X_WIDTH_5, Y_WIDTH, LAYOUT_BYTES, TABLE_STRIDE,
} from "./abi.js";
import { errors, HeadsnetError } from "./errors.js";
import { parseHeader, vertexLayout, MAX_HEADER_BYTES, type PlyHeader } from "./ply-header.js";
import { buildSpatialHash, type SpatialHash } from "./spatial-hash.js";
import type { Icosphere } from "./icosphere.js";

export type Projection = "legacy" | "ray";
export type InputWidth = 2 | 5;

export interface KernelOptions {
  projection?: Projection;
  inputs?: InputWidth;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  setIcosphere(ptr: number, count: number): void;
  setHash(grid: number, cellStartPtr: number, candidatesPtr: number, wide: number): void;
  nearest(x: number, y: number, z: number): number;
  nearestBrute(x: number, y: number, z: number): number;
  trace(x: number, y: number, z: number, nx: number, ny: number, nz: number, options: number): number;
  traced: WebAssembly.Global;
  slots: WebAssembly.Global;
  skipElement(start: number, stop: number, count: number, layout: number): number;
  compileVertices(start: number, stop: number, count: number, layout: number, xOut: number, yOut: number, id: number, options: number): number;
  errorAddress(): number;
  errorVertexIndex(): number;
  cursorAddress(): number;
}

export type WasmBuild = "release" | "debug";

const modules = new Map<WasmBuild, WebAssembly.Module>();

export function wasmPath(build: WasmBuild): string {
  return join(PACKAGE_ROOT, "build", `${build}.wasm`);
}

function wasmModule(build: WasmBuild): WebAssembly.Module {
  let module = modules.get(build);
  if (!module) {
    const path = wasmPath(build);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`${path} is missing: the WebAssembly kernel is built by 'npm install' (or 'npm run build')`);
    }
    module = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(build, module);
  }
  return module;
}

export interface CompiledFile {
  rows: number;
  vertices: number;
  /** train_x rows (2 or 5 float32 each) and train_y rows (6 float32 each), owned by the caller. */
  x: Float32Array;
  y: Float32Array;
  hasNormals: boolean;
  hasColors: boolean;
  format: string;
  bytesRead: number;
}

const PAGE = 65536;

/** One instance of the kernel, set up for one icosphere. Not shareable between threads. */
export class Kernel {
  readonly icosphere: Icosphere;
  readonly hash: SpatialHash;
  private readonly wasm: KernelExports;
  private readonly layoutPtr: number;
  private readonly dataPtr: number;

  constructor(icosphere: Icosphere, options: { build?: WasmBuild; hash?: SpatialHash } = {}) {
    this.icosphere = icosphere;
    this.hash = options.hash ?? buildSpatialHash(icosphere.vertices);
    let exports: KernelExports | undefined;
    const instance = new WebAssembly.Instance(wasmModule(options.build ?? "release"), {
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
    // cells, candidate groups, layout block; then file data.
    const groups = candidateGroups(this.hash, icosphere.count);
    let at = align(this.wasm.heapBase(), 64);
    const tablePtr = at; at = align(at + (icosphere.count + 1) * TABLE_STRIDE, 64);
    const cellStartPtr = at; at = align(at + groups.cellStart.byteLength, 64);
    const candidatesPtr = at; at = align(at + groups.candidates.byteLength, 64);
    this.layoutPtr = at; at = align(at + LAYOUT_BYTES, 16);
    this.dataPtr = at;
    this.reserve(at);
    const rowFloats = TABLE_STRIDE / 4;
    const table = new Float32Array(this.wasm.memory.buffer, tablePtr, (icosphere.count + 1) * rowFloats);
    for (let i = 0; i < icosphere.count; i++) table.set(icosphere.vertices.subarray(3 * i, 3 * i + 3), i * rowFloats);
    table.fill(PAD_COORD, icosphere.count * rowFloats, icosphere.count * rowFloats + 3);
    new Uint32Array(this.wasm.memory.buffer, cellStartPtr, groups.cellStart.length).set(groups.cellStart);
    new Uint8Array(this.wasm.memory.buffer, candidatesPtr, groups.candidates.byteLength)
      .set(new Uint8Array(groups.candidates.buffer, groups.candidates.byteOffset, groups.candidates.byteLength));
    this.wasm.setIcosphere(tablePtr, icosphere.count);
    this.wasm.setHash(this.hash.grid, cellStartPtr, candidatesPtr, groups.candidates instanceof Uint32Array ? 1 : 0);
  }

  private reserve(bytes: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > 0xffff0000) throw new Error(`a file needs ${bytes} bytes of kernel memory; WebAssembly allows 4 GiB`);
      this.wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
  }

  /** Nearest icosphere vertex by the spatial hash (the reference's answer). */
  nearest(x: number, y: number, z: number): number {
    return this.wasm.nearest(x, y, z);
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
    this.reserve(this.dataPtr + bytes.byteLength);
    new Uint8Array(this.wasm.memory.buffer, this.dataPtr, bytes.byteLength).set(bytes);
    return bytes.byteLength;
  }

  /** Compile a PLY file from disk, read straight into kernel memory. */
  compileFile(path: string, id: number, options: KernelOptions = {}, label = path): CompiledFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw errors.read(label, (e as Error).message);
    }
    try {
      const size = fstatSync(fd).size;
      this.reserve(this.dataPtr + size);
      const target = new Uint8Array(this.wasm.memory.buffer, this.dataPtr, size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, target, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return this.compileLoaded(done, label, id, options);
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
   * memory, valid until the next call: what the benchmark times as "the kernel alone".
   */
  run(size: number, file: string, id: number, options: KernelOptions = {}): CompiledFile {
    const header = this.header(size, file);
    const layout = vertexLayout(header, file);
    const base = this.dataPtr;
    const end = base + size;
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
    const xWidth = options.inputs === 5 ? X_WIDTH_5 : X_WIDTH_2;
    const xPtr = align(end, 16);
    const yPtr = align(xPtr + count * xWidth * 4, 16);
    this.reserve(yPtr + count * Y_WIDTH * 4);
    new Int32Array(memory(), this.layoutPtr, layout.words.length).set(layout.words);
    // Absent properties: zero normals (the legacy step then keeps the vertex), white colour.
    const slots = new Float32Array(memory(), this.wasm.slots.value as number, SLOT_COUNT);
    slots.fill(0);
    slots[SLOT_R] = slots[SLOT_G] = slots[SLOT_B] = 1;
    let flags = 0;
    if (options.projection === "ray") flags |= OPT_PROJECTION_RAY;
    if (xWidth === X_WIDTH_5) flags |= OPT_INPUTS_5;
    const status = this.wasm.compileVertices(start, end, count, this.layoutPtr, xPtr, yPtr, Math.fround(id), flags);
    if (status !== S_OK) fail(status, count, this.wasm.errorVertexIndex());
    return {
      rows: count,
      vertices: count,
      x: new Float32Array(memory(), xPtr, count * xWidth),
      y: new Float32Array(memory(), yPtr, count * Y_WIDTH),
      hasNormals: layout.hasNormals,
      hasColors: layout.hasColors,
      format: header.format,
      bytesRead: size,
    };
  }
}

// Coordinates of the padding row: far from every point the cube map serves.
const PAD_COORD = 1e18;

/** The cube map as the kernel reads it: each cell's candidates padded to groups of 4. */
function candidateGroups(hash: SpatialHash, count: number): { cellStart: Uint32Array; candidates: Uint16Array | Uint32Array } {
  const cells = hash.cellStart.length - 1;
  const cellStart = new Uint32Array(cells + 1);
  let total = 0;
  for (let k = 0; k < cells; k++) {
    cellStart[k] = total;
    total += Math.ceil((hash.cellStart[k + 1] - hash.cellStart[k]) / 4) * 4;
  }
  cellStart[cells] = total;
  const candidates = count < 0xffff ? new Uint16Array(total) : new Uint32Array(total);
  candidates.fill(count);
  for (let k = 0; k < cells; k++) candidates.set(hash.candidates.subarray(hash.cellStart[k], hash.cellStart[k + 1]), cellStart[k]);
  return { cellStart, candidates };
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
