// In-process A/B of MeshKernel.loadFile and its wasm calls: two builds alternated file by file,
// medians per build and the ratio of medians. Usage: node ab.mjs <old root> <new root> [rounds]
// A fourth argument: one file to load every round instead of five corpus heads.
const [oldRoot, newRoot, roundsArg, onlyFile] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 30);
const CALLS = ["decodeVertices", "decodePlainVertices", "readPlyTriangles", "finishMesh"];
async function setup(root) {
  const km = await import(`${root}/dist/src/mesh/kernel.js`);
  const k = new km.MeshKernel({});
  const times = {};
  const w = k.wasm, o = Object.create(null);
  for (const key of Object.keys(w)) o[key] = w[key];
  for (const name of CALLS) {
    const f = w[name];
    if (!f) continue;
    o[name] = (...a) => { const t0 = performance.now(); const r = f(...a); (times[name] ??= []).push(performance.now() - t0); return r; };
  }
  k.wasm = o;
  return { k, times };
}
const builds = [await setup(oldRoot), await setup(newRoot)];
for (let r = 0; r < rounds; r++) {
  const file = onlyFile ?? `/work/abtest/corpus/head_${String(7 + r % 5).padStart(5, "0")}.ply`;
  // Alternate which build goes first.
  for (const b of r % 2 ? [builds[1], builds[0]] : builds) {
    const t0 = performance.now();
    b.k.loadFile(file);
    (b.times.loadFile ??= []).push(performance.now() - t0);
    // The rest of a voxels file, so that caches see what a compile does.
    b.k.voxelize({ grid: 32 });
  }
}
const med = (a) => (a ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN);
const sum = (t, names) => names.reduce((s, n) => s + (t[n] ? med(t[n]) : 0), 0);
console.log(`${rounds} rounds, medians in ms (old | new | new/old)`);
const rows = [["vertices (decode*)", ["decodeVertices", "decodePlainVertices"]], ["readPlyTriangles", ["readPlyTriangles"]], ["finishMesh", ["finishMesh"]], ["loadFile", ["loadFile"]]];
for (const [label, names] of rows) {
  const a = sum(builds[0].times, names), b = sum(builds[1].times, names);
  console.log(label.padEnd(20), a.toFixed(3).padStart(8), b.toFixed(3).padStart(8), (b / a).toFixed(3).padStart(7));
}
console.log("new build calls:", Object.fromEntries(Object.entries(builds[1].times).map(([n, v]) => [n, v.length])));
