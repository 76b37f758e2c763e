// Loading outcomes (rows, triangles, info, or the error message) of broken and odd PLYs, compared
// between two builds: node errors.mjs <old root> <new root>
import { createHash } from "node:crypto";
const [a, b] = process.argv.slice(2);
const K = [await import(`${a}/dist/src/mesh/kernel.js`), await import(`${b}/dist/src/mesh/kernel.js`)].map((m) => new m.MeshKernel({}));
const { writePly } = await import(`${b}/dist/src/ply-write.js`);
const { synthHead } = await import(`${b}/dist/src/synth.js`);
const head = synthHead({ vertices: 2001, seed: 3 });
const n = head.positions.length / 3;
const col = (v, k, w, f = (x) => x) => Float64Array.from({ length: n }, (_, i) => f(v[w * i + k]));
const outcome = (k, file, opts) => {
  try {
    k.loadBytes(file, "m.ply", opts);
    const r = k.arrays();
    const h = createHash("sha256");
    for (const x of [r.positions, r.normals, r.colors, r.triangles]) h.update(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    return JSON.stringify(k.info) + h.digest("hex");
  } catch (e) { return e.message; }
};
const faces0 = Array.from({ length: head.faces.length / 3 }, (_, f) => Array.from(head.faces.subarray(3 * f, 3 * f + 3)));
const make = (format, itemType, faces, vertexProps) => writePly({ format, elements: [
  { name: "vertex", count: n, properties: vertexProps },
  { name: "face", count: faces.length, properties: [{ name: "vertex_indices", countType: "uchar", itemType, data: faces }] }] });
const v = (names, vals, k0, w, type) => names.map((name, k) => ({ name, type, data: col(vals, k0 + k, w) }));
const blender = [...v(["x", "y", "z"], head.positions, 0, 3, "float"), ...v(["nx", "ny", "nz"], head.normals, 0, 3, "float"), ...v(["red", "green", "blue", "alpha"], head.colors, 0, 4, "uchar")];
let same = 0, diff = 0, errorsSeen = 0;
const check = (label, file, opts = {}) => {
  const [x, y] = K.map((k) => outcome(k, file, opts));
  if (x === y) same++; else { diff++; console.log("DIFF", label, "\n ", x.slice(0, 200), "\n ", y.slice(0, 200)); }
  if (!x.startsWith("{")) errorsSeen++;
};
for (const format of ["binary_little_endian", "binary_big_endian", "ascii"]) for (const itemType of ["int", "uint", "ushort"]) {
  const good = make(format, itemType, faces0, blender);
  check(`${format} ${itemType}`, good);
  const body = Buffer.from(good).indexOf("end_header\n") + 11;
  for (let cut = good.length - 30; cut < good.length; cut++) check(`${format} ${itemType} cut ${cut}`, good.subarray(0, cut));
  for (const cut of [body + 5, body + 27 * 100 + 3, body + 30 * n + 7]) check(`${format} ${itemType} cut ${cut}`, good.subarray(0, cut));
  for (const at of [0, 1, 2, 100, faces0.length - 3, faces0.length - 2, faces0.length - 1]) for (const bad of [n, n + 1, itemType === "ushort" ? 65535 : -1]) {
    if (itemType !== "int" && bad < 0) continue;
    const f = faces0.map((x) => x.slice()); f[at][at % 3] = bad;
    check(`${format} ${itemType} bad ${at} ${bad}`, make(format, itemType, f, blender));
  }
  const mixed = faces0.map((x) => x.slice()); mixed.splice(3, 0, [0, 1, 2, 3]); mixed.splice(7, 0, [1]); mixed.splice(9, 0, []); mixed.push([4, 5, 6, 7, 8]);
  check(`${format} ${itemType} mixed`, make(format, itemType, mixed, blender));
  for (const [k, val] of [[0, NaN], [4, Infinity], [2, -Infinity]]) for (const at of [0, 17, n - 1]) {
    const props = blender.map((p) => ({ ...p, data: p.data.slice() })); props[k].data[at] = val;
    check(`${format} ${itemType} nonfinite ${k} ${at}`, make(format, itemType, faces0, props));
    check(`${format} ${itemType} nonfinite ${k} ${at} compute`, make(format, itemType, faces0, props), { normals: "compute" });
  }
}
console.log(`identical ${same} (of which errors ${errorsSeen}), different ${diff}`);
