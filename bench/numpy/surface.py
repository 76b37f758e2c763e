"""Area-weighted surface samples the fast numpy way, for bench/mesh.ts to time against.

Usage: surface.py DIR SAMPLES RUNS
DIR holds positions.f32 (V x 3), colors.f32 (V x 3, 0-1), triangles.u32 (T x 3), raw little-endian.
Prints one JSON line: wall and CPU seconds per run (table build + samples), and a checksum of the
last run.

What it does (all vectorised): triangle areas from a cross product, a cumulative sum, one
searchsorted of N uniform draws (inverse CDF), square-root barycentric coordinates, the
triangles' unit normals and interpolated colours, rows of float32 x y z nx ny nz r g b.
"""
import json
import sys
import time

import numpy as np


def load(d):
    p = np.fromfile(f"{d}/positions.f32", dtype="<f4").reshape(-1, 3)
    c = np.fromfile(f"{d}/colors.f32", dtype="<f4").reshape(-1, 3)
    t = np.fromfile(f"{d}/triangles.u32", dtype="<u4").reshape(-1, 3).astype(np.int64)
    return p, c, t


def sample_surface(p, c, t, n, rng):
    a, b, cc = p[t[:, 0]].astype(np.float64), p[t[:, 1]].astype(np.float64), p[t[:, 2]].astype(np.float64)
    cross = np.cross(b - a, cc - a)
    length = np.linalg.norm(cross, axis=1)
    cdf = np.cumsum(0.5 * length)
    tri = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    np.minimum(tri, len(cdf) - 1, out=tri)
    r1 = np.sqrt(rng.random(n))
    r2 = rng.random(n)
    wa, wb, wc = 1 - r1, r1 * (1 - r2), r1 * r2
    ta, tb, tc = t[tri, 0], t[tri, 1], t[tri, 2]
    out = np.empty((n, 9), dtype=np.float32)
    out[:, 0:3] = wa[:, None] * a[tri] + wb[:, None] * b[tri] + wc[:, None] * cc[tri]
    out[:, 3:6] = cross[tri] / length[tri, None]
    out[:, 6:9] = wa[:, None] * c[ta] + wb[:, None] * c[tb] + wc[:, None] * c[tc]
    return out


def main():
    d, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    p, c, t = load(d)
    rng = np.random.default_rng(1)
    sample_surface(p, c, t, min(n, 10000), rng)  # warm up
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = sample_surface(p, c, t, n, rng)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"seconds": times, "cpu": cpu, "checksum": float(out[:, :3].astype(np.float64).sum()), "numpy": np.__version__}))


if __name__ == "__main__":
    main()
