// The in-order committer (src/compile/commit.ts): files finish in any order; their rows are
// written in input order, each after the rows of every file before it, and once written a
// file's record keeps its stats but none of its rows' memory (a run keeps every record to its
// end, so rows kept there grew it by each file's rows: 3.6 MB a head for surface samples).

import { describe, it, expect } from "vitest";
import { InOrderCommitter } from "../src/compile/commit.js";
import { FileRecord } from "../src/compile/files.js";
import type { FileResult } from "../src/compile/protocol.js";
import type { DatasetWriter, RowsPlace } from "../src/dataset/writer.js";

/** A writer that keeps what it is asked to write, one stream, rows of `rowBytes`. */
function memoryWriter(rowBytes: number) {
  let rows = 0;
  const writes: { at: number; bytes: number[] }[] = [];
  const writer = {
    claim(n: number): RowsPlace {
      const place = { firstRow: rows, at: [rows * rowBytes] };
      rows += n;
      return place;
    },
    async write(_k: number, bytes: Uint8Array, at: number): Promise<void> {
      await new Promise((done) => setTimeout(done, 1));
      writes.push({ at, bytes: [...bytes] });
    },
  };
  return { writer: writer as unknown as DatasetWriter, writes };
}

/** Every ArrayBuffer reachable from `root` (own properties, arrays, promises excluded). */
function buffersIn(root: unknown): ArrayBuffer[] {
  const found: ArrayBuffer[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (v instanceof ArrayBuffer) return void found.push(v);
    if (ArrayBuffer.isView(v)) return walk(v.buffer);
    for (const key of Object.keys(v)) walk((v as Record<string, unknown>)[key]);
  };
  walk(root);
  return found;
}

describe("in-order commit", () => {
  it("writes rows in input order whatever order files finish in, and keeps no row memory once they are written", async () => {
    const ROW = 4;
    const { writer, writes } = memoryWriter(ROW);
    const input = (i: number) => ({ path: `/c/h${i}.ply`, rel: `h${i}.ply`, label: `h${i}.ply`, size: 1, mtimeMs: 0 });
    const records = Array.from({ length: 5 }, (_, i) => new FileRecord(i, input(i), i));
    const committer = new InOrderCommitter(writer, records, 0);
    // File i has i + 1 rows, each byte the file's number; file 2 fails.
    const finish = (i: number) => {
      const r = records[i];
      const result: FileResult = i === 2
        ? { ok: false, error: { code: "E_PLY", message: "h2.ply: bad" } }
        : {
          ok: true, rows: i + 1, vertices: i + 1, bytesRead: 1, normals: "file", warnings: [],
          skipped: { nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: 0 },
          out: { region: 0, parts: [{ memory: new Uint8Array((i + 1) * ROW).fill(i).buffer, at: 0, bytes: (i + 1) * ROW }] },
        };
      r.result = result;
      if (result.ok) r.rows = result.out;
      committer.arrived(r);
    };
    for (const i of [3, 1, 4, 0, 2]) finish(i);
    const outcomes = await Promise.all(records.map((r) => r.outcome));
    expect(outcomes.map((o) => o.kind)).toEqual(["compiled", "compiled", "failed", "compiled", "compiled"]);
    // Rows 0 | 1 1 | 3 3 3 3 | 4 4 4 4 4, each where its place says.
    const firstRows = outcomes.map((o) => (o.kind === "compiled" ? o.place.firstRow : -1));
    expect(firstRows).toEqual([0, 1, -1, 3, 7]);
    const file = new Array(12 * ROW).fill(-1);
    for (const w of writes) w.bytes.forEach((b, k) => (file[w.at + k] = b));
    expect(file).toEqual([0, 1, 1, 3, 3, 3, 3, 4, 4, 4, 4, 4].flatMap((v) => new Array(ROW).fill(v)));
    // The stats stay; the rows' memory does not, in the records or in their outcomes.
    expect(outcomes.map((o) => (o.kind === "compiled" ? o.stats.rows : 0))).toEqual([1, 2, 0, 4, 5]);
    expect(buffersIn(records)).toEqual([]);
    expect(buffersIn(outcomes)).toEqual([]);
  });
});
