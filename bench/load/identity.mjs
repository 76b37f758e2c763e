// Byte identity of compileMeshTarget between two builds (dist + build of each) on corpus heads.
import { createHash } from "node:crypto";
const [a, b] = process.argv.slice(2);
const A = await import(`${a}/dist/src/mesh/targets.js`), B = await import(`${b}/dist/src/mesh/targets.js`);
const hash = (r) => {
  const h = createHash("sha256");
  h.update(JSON.stringify({ ...r, x: undefined, y: undefined }));
  h.update(Buffer.from(r.x.buffer, r.x.byteOffset, r.x.byteLength));
  h.update(Buffer.from(r.y.buffer, r.y.byteOffset, r.y.byteLength));
  return h.digest("hex");
};
const cases = [["voxels", {}], ["images", {}], ["surface", {}], ["surface", { surfaceNormals: "vertex" }], ["occupancy", {}],
  ["surface", { normals: "compute" }], ["voxels", { normals: "compute" }]];
let same = 0, diff = 0;
for (let i = 0; i < 12; i++) {
  const file = `/work/abtest/corpus/head_${String(i * 16).padStart(5, "0")}.ply`;
  for (const [target, opts] of cases) {
    const o = { samples: 20000, seed: 7, ...opts };
    const ha = hash(A.compileMeshTarget(file, target, o)), hb = hash(B.compileMeshTarget(file, target, o));
    if (ha === hb) same++; else { diff++; console.log("DIFF", file, target, JSON.stringify(opts)); }
  }
}
console.log(`identical ${same}, different ${diff}`);
