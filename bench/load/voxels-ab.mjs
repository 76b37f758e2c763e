// Per-file compileMeshTarget(voxels) of two builds alternated in one process, and just reading
// the file (open, fstat, readSync into a buffer) in the same rounds: medians in ms.
import { openSync, readSync, fstatSync, closeSync } from "node:fs";
const [a, b, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 31);
const T = [await import(`${a}/dist/src/mesh/targets.js`), await import(`${b}/dist/src/mesh/targets.js`)];
const times = [[], [], []];
const buffer = Buffer.alloc(8 << 20);
const read = (file) => { const fd = openSync(file, "r"); const size = fstatSync(fd).size; let done = 0; while (done < size) { const n = readSync(fd, buffer, done, size - done, done); if (!n) break; done += n; } closeSync(fd); };
for (let r = 0; r < rounds; r++) {
  const file = `/work/abtest/corpus/head_${String(20 + r % 7).padStart(5, "0")}.ply`;
  const order = r % 2 ? [1, 0, 2] : [2, 0, 1];
  for (const i of order) {
    const t0 = performance.now();
    if (i === 2) read(file); else T[i].compileMeshTarget(file, "voxels");
    times[i].push(performance.now() - t0);
  }
}
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
const [m0, m1, m2] = times.map(med);
console.log(`${rounds} rounds: voxels old ${m0.toFixed(2)} ms, new ${m1.toFixed(2)} ms (new/old ${(m1 / m0).toFixed(3)}); reading the file ${m2.toFixed(2)} ms`);
